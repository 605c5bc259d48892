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

# The tool catalog's reconcile: Cloud Scheduler calls POST /internal/reconcile with an OIDC
# token for agora-catalog-scheduler, which repairs any change notice the registry lost.
resource "google_service_account" "catalog_scheduler" {
  project      = var.project_id
  account_id   = "agora-catalog-scheduler"
  display_name = "Agora Cloud Scheduler invoker (tool catalog reconcile)"

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_tool" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service["tool"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.catalog_scheduler.email}"
}

resource "google_cloud_scheduler_job" "catalog_reconcile" {
  project          = var.project_id
  region           = var.region
  name             = "agora-catalog-reconcile"
  description      = "Bring the tool catalog in line with the registry's agents."
  schedule         = var.catalog_reconcile_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "300s"

  retry_config {
    retry_count = 1
  }

  http_target {
    http_method = "POST"
    uri         = "${local.service_urls["tool"]}/internal/reconcile"

    oidc_token {
      service_account_email = google_service_account.catalog_scheduler.email
      audience              = local.service_urls["tool"]
    }
  }

  depends_on = [google_project_service.enabled]
}
