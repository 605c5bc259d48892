# Vetting scans are queued here; vetting enqueues tasks that call back into
# its own URL with an OIDC token minted for agora-tasks-invoker.
resource "google_cloud_tasks_queue" "scans" {
  project  = var.project_id
  name     = "agora-scans"
  location = var.region

  rate_limits {
    # Vetting scales to at most 2 instances; keep dispatch modest.
    max_dispatches_per_second = 5
    max_concurrent_dispatches = 10
  }

  retry_config {
    max_attempts       = 5
    min_backoff        = "10s"
    max_backoff        = "300s"
    max_doublings      = 4
    max_retry_duration = "3600s"
  }

  depends_on = [google_project_service.enabled]
}

# Identity Cloud Tasks uses to call vetting. It can invoke vetting and nothing else.
resource "google_service_account" "tasks_invoker" {
  project      = var.project_id
  account_id   = "agora-tasks-invoker"
  display_name = "Agora Cloud Tasks invoker (vetting scans)"

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_run_v2_service_iam_member" "tasks_invoke_vetting" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service["vetting"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.tasks_invoker.email}"
}

# Vetting may add tasks to this queue only...
resource "google_cloud_tasks_queue_iam_member" "vetting_enqueuer" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_tasks_queue.scans.name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.service["vetting"].email}"
}

# ...and must be able to actAs agora-tasks-invoker to attach its OIDC token to
# the tasks it creates.
resource "google_service_account_iam_member" "vetting_acts_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.service["vetting"].email}"
}
