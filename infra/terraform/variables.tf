variable "project_id" {
  description = "Google Cloud project that hosts the whole Agora fleet."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid Google Cloud project ID (6-30 chars, lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  description = "Region for Cloud Run, Artifact Registry, Cloud Tasks, Memorystore, KMS and the VPC subnet."
  type        = string
  default     = "us-central1"
}

variable "image_tag" {
  description = "Tag of the service images to deploy (push them first; a git SHA is better than a moving tag)."
  type        = string
  default     = "latest"
}

variable "image_registry" {
  description = "Override for the image registry prefix. Defaults to <region>-docker.pkg.dev/<project>/agora (the repository created here)."
  type        = string
  default     = null
}

variable "tool_image_versions_kept" {
  description = "Versions of each submitted tool's image kept in agora-tools whatever their age (the most recent ones)."
  type        = number
  default     = 5

  validation {
    condition     = var.tool_image_versions_kept >= 1
    error_message = "tool_image_versions_kept must be >= 1."
  }
}

variable "tool_image_min_age_days" {
  description = "Days an image version in agora-tools is kept at least, even past tool_image_versions_kept."
  type        = number
  default     = 30

  validation {
    condition     = var.tool_image_min_age_days >= 1
    error_message = "tool_image_min_age_days must be >= 1."
  }
}

variable "gateway_min_instances" {
  description = "Minimum gateway instances (kept warm: it is the public entry)."
  type        = number
  default     = 1

  validation {
    condition     = var.gateway_min_instances >= 0
    error_message = "gateway_min_instances must be >= 0."
  }
}

variable "gateway_max_instances" {
  description = "Maximum gateway instances."
  type        = number
  default     = 3

  validation {
    condition     = var.gateway_max_instances >= 1
    error_message = "gateway_max_instances must be >= 1."
  }
}

variable "firestore_location" {
  description = "Firestore location (immutable once created). Defaults to var.region; use \"nam5\" for the US multi-region."
  type        = string
  default     = null
}

variable "bigquery_location" {
  description = "Location of the analytics BigQuery dataset."
  type        = string
  default     = "US"
}

variable "run_subnet_cidr" {
  description = "CIDR of the subnet Cloud Run services egress through (Direct VPC egress). /26 is the minimum; /24 leaves room for scaling and revisions."
  type        = string
  default     = "10.8.0.0/24"
}

variable "deletion_protection" {
  description = "Cloud Run deletion protection. Set to false (and apply) before `terraform destroy`."
  type        = bool
  default     = true
}

variable "catalog_reconcile_schedule" {
  description = "How often the tool catalog is reconciled with the registry (cron, UTC)."
  type        = string
  default     = "*/10 * * * *"
}

variable "alerts_check_schedule" {
  description = "How often analytics checks for anomalies (cron, UTC)."
  type        = string
  default     = "*/5 * * * *"
}

variable "sources_location" {
  description = "Location of the package sources bucket. Defaults to var.region."
  type        = string
  default     = null
}

variable "sources_noncurrent_days" {
  description = "Days a noncurrent (deleted or replaced) version of a package source is kept before it is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.sources_noncurrent_days >= 1
    error_message = "sources_noncurrent_days must be >= 1."
  }
}
