terraform {
  # Lifecycle pre-conditions need 1.2+; stay on a maintained 1.x core.
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}
