# Package sources (agora_common.blobs): the tool service writes each one once,
# vetting scans them and the builds read them. Bucket names are global, so the
# name carries the project id.
resource "google_storage_bucket" "sources" {
  project       = var.project_id
  name          = "${var.project_id}-agora-sources"
  location      = upper(coalesce(var.sources_location, var.region))
  storage_class = "STANDARD"

  # IAM only (no object ACLs), and never public whatever a binding says.
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # Objects are written create-only (ifGenerationMatch=0) and never replaced;
  # versioning keeps what is deleted or overwritten by hand recoverable...
  versioning {
    enabled = true
  }

  # ...for a while: a noncurrent version goes after var.sources_noncurrent_days.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.sources_noncurrent_days
    }
    action {
      type = "Delete"
    }
  }

  # Uploads abandoned midway hold storage too.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # `terraform destroy` refuses a bucket that still holds sources.
  force_destroy = false

  depends_on = [google_project_service.enabled]
}

# The tool service creates sources. objectCreator cannot overwrite or delete
# one; objectViewer lets its create-only put read an existing object's hashes
# (same bytes: a retried upload is a no-op).
resource "google_storage_bucket_iam_member" "tool_creates_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.service["tool"].email}"
}

resource "google_storage_bucket_iam_member" "tool_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.service["tool"].email}"
}

# Vetting reads the sources it scans.
resource "google_storage_bucket_iam_member" "vetting_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.service["vetting"].email}"
}

# Identity of the Cloud Build builds made from sources: it reads them, writes
# its build logs and pushes the images it builds to agora-tools (cloud_build.tf),
# never to the services' agora repository: a package's Dockerfile runs in its
# builds. The executor starts them (cloud_build.tf).
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "agora-build"
  display_name = "Agora builds from sources (Cloud Build)"

  depends_on = [google_project_service.enabled]
}

resource "google_storage_bucket_iam_member" "build_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.tools.location
  repository = google_artifact_registry_repository.tools.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.build.email}"
}
