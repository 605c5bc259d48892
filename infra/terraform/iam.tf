# One service account per service: agora-<service>@<project>.iam.gserviceaccount.com.
resource "google_service_account" "service" {
  for_each = toset(keys(local.services))

  project      = var.project_id
  account_id   = "agora-${each.key}"
  display_name = "Agora ${each.key} service"

  depends_on = [google_project_service.enabled]
}

# Project-level roles from the services table (Firestore, BigQuery jobs,
# Cloud Run admin for the executor).
resource "google_project_iam_member" "service" {
  for_each = local.project_role_bindings

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.service[each.value.service].email}"
}

# Identity of every deployed agent service (agent-<hash_id>). Deliberately has
# no roles: agents are untrusted code and get no access to Agora's data.
resource "google_service_account" "agent_runtime" {
  project      = var.project_id
  account_id   = "agora-agent-runtime"
  display_name = "Agora agent runtime (no roles)"

  depends_on = [google_project_service.enabled]
}

# The executor deploys agent services that run as agora-agent-runtime, which
# requires actAs on that account (and only that account).
resource "google_service_account_iam_member" "executor_acts_as_agent_runtime" {
  service_account_id = google_service_account.agent_runtime.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.service["executor"].email}"
}

# The auth service mints Firebase custom tokens for agents. On Cloud Run there
# is no private key to sign them with, so firebase-admin signs through IAM
# signBlob as the service's own account: token creator on itself, nothing more.
resource "google_service_account_iam_member" "auth_signs_custom_tokens" {
  service_account_id = google_service_account.service["auth"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.service["auth"].email}"
}
