# Images of submitted tool packages. When an admin approves a tool, the
# executor has Cloud Build build its stored archive (gs://<sources bucket>/
# packages/sha256-<hex>.tar.gz) into agora-tools/tool-<slug>:<16 hex of the
# digest), as agora-build (storage.tf: it reads the sources, writes its logs and
# pushes here), then deploys that image (runtime/cloud_build.py).

# Where the tool service says a package's image is (AGORA_TOOL_IMAGE_REPOSITORY)
# and where the executor builds it: the same prefix, or deploys are refused.
locals {
  tool_images_repository = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.tools.repository_id}"
}

# Kept apart from the services' own `agora` repository: what is built here is
# untrusted code, and its builder may push nowhere else.
resource "google_artifact_registry_repository" "tools" {
  project       = var.project_id
  location      = var.region
  repository_id = "agora-tools"
  format        = "DOCKER"
  description   = "Images built from submitted tool packages (tool-<slug>:<digest prefix>)"

  # A tag is one package digest: never moved to other bytes once pushed, so the
  # executor may skip the build of a tag that exists.
  docker_config {
    immutable_tags = true
  }

  # Old versions of a tool go once they are past the last var.tool_image_versions_kept
  # of that image and older than var.tool_image_min_age_days (KEEP wins over DELETE).
  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "keep-recent-versions"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.tool_image_versions_kept
    }
  }

  cleanup_policies {
    id     = "delete-old-versions"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "${var.tool_image_min_age_days * 86400}s"
    }
  }

  depends_on = [google_project_service.enabled]
}

# The executor starts, follows and (past its deadline) cancels builds. Builds
# have no IAM of their own, so the grant is on the project; this role is
# those three permissions, narrower than roles/cloudbuild.builds.editor (which
# also lists every build).
resource "google_project_iam_custom_role" "build_starter" {
  project     = var.project_id
  role_id     = "agoraBuildStarter"
  title       = "Agora: start, follow and cancel builds"
  description = "The executor's builds of submitted packages' images."
  permissions = [
    "cloudbuild.builds.create",
    "cloudbuild.builds.get",
    "cloudbuild.builds.update",
  ]
}

resource "google_project_iam_member" "executor_starts_builds" {
  project = var.project_id
  role    = google_project_iam_custom_role.build_starter.name
  member  = "serviceAccount:${google_service_account.service["executor"].email}"
}

# A build that runs as agora-build needs actAs on it, and only on it.
resource "google_service_account_iam_member" "executor_acts_as_build" {
  service_account_id = google_service_account.build.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.service["executor"].email}"
}

# The executor looks a package's tag up before building it.
resource "google_artifact_registry_repository_iam_member" "executor_reads_tool_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.tools.location
  repository = google_artifact_registry_repository.tools.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.service["executor"].email}"
}

output "tool_images_repository" {
  description = "Registry prefix of the images built from submitted packages (<prefix>/tool-<slug>:<tag>)."
  value       = local.tool_images_repository
}
