locals {
  apis = [
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com", # builds of the services' images and of package sources
    "cloudkms.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "compute.googleapis.com", # VPC, subnet, router/NAT for Direct VPC egress
    "firebase.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "redis.googleapis.com",
    "run.googleapis.com",
    "storage.googleapis.com", # the package sources bucket
    # Not needed: vpcaccess (Direct VPC egress replaces Serverless VPC Access
    # connectors) and secretmanager (no secrets are provisioned here).
  ]
}

resource "google_project_service" "enabled" {
  for_each = toset(local.apis)

  project = var.project_id
  service = each.value

  # Never switch APIs off on destroy: other things in the project may use them.
  disable_on_destroy = false
}
