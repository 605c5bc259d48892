# Images are pushed here by the Makefile's deploy targets as
# <region>-docker.pkg.dev/<project>/agora/<service>:<tag>.
resource "google_artifact_registry_repository" "agora" {
  project       = var.project_id
  location      = var.region
  repository_id = "agora"
  format        = "DOCKER"
  description   = "Agora service images"

  depends_on = [google_project_service.enabled]
}
