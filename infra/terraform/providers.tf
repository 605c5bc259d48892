provider "google" {
  project = var.project_id
  region  = var.region
}

# Needed for the project number, which is part of every Cloud Run service's
# deterministic URL (see locals.tf).
data "google_project" "this" {
  project_id = var.project_id
}
