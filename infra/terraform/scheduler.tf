# The anomaly check of analytics runs every few minutes: Cloud Scheduler calls
# POST /internal/alerts/check with an OIDC token for agora-alerts-scheduler,
# the only identity (besides none) that route accepts.
resource "google_service_account" "alerts_scheduler" {
  project      = var.project_id
  account_id   = "agora-alerts-scheduler"
  display_name = "Agora Cloud Scheduler invoker (analytics anomaly check)"

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_analytics" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service["analytics"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.alerts_scheduler.email}"
}

resource "google_cloud_scheduler_job" "alerts_check" {
  project          = var.project_id
  region           = var.region
  name             = "agora-alerts-check"
  description      = "Compare each agent's recent errors and latency with its baseline."
  schedule         = var.alerts_check_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "120s"

  retry_config {
    retry_count = 1
  }

  http_target {
    http_method = "POST"
    uri         = "${local.service_urls["analytics"]}/internal/alerts/check"

    oidc_token {
      service_account_email = google_service_account.alerts_scheduler.email
      audience              = local.service_urls["analytics"]
    }
  }

  depends_on = [google_project_service.enabled]
}
