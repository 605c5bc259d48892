# --- Firestore (native mode): the system of record for every service but the gateway.
resource "google_firestore_database" "default" {
  project     = var.project_id
  name        = "(default)"
  location_id = coalesce(var.firestore_location, var.region)
  type        = "FIRESTORE_NATIVE"

  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  # `terraform destroy` only forgets the database; data is never dropped here.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.enabled]
}

# --- Memorystore for Redis: shared cache / rate limiting for the services with
# redis = true in the services table. Reachable only from the agora VPC
# (peered), so no AUTH string is provisioned.
resource "google_redis_instance" "cache" {
  project        = var.project_id
  name           = "agora-cache"
  region         = var.region
  tier           = "BASIC"
  memory_size_gb = 1
  redis_version  = "REDIS_7_2"

  authorized_network = google_compute_network.agora.id
  connect_mode       = "DIRECT_PEERING"

  depends_on = [google_project_service.enabled]
}

# --- BigQuery: the schema lives in code (agora_analytics.bigquery.SCHEMA), which
# creates the table when missing; the table is mirrored here from
# bigquery_events_schema.json, which a test keeps equal to the code.
resource "google_bigquery_dataset" "analytics" {
  project     = var.project_id
  dataset_id  = "agora_analytics"
  location    = var.bigquery_location
  description = "Agora usage analytics: execution and security events."

  delete_contents_on_destroy = false

  depends_on = [google_project_service.enabled]
}

# Analytics may write rows into this dataset only (plus run jobs, granted at
# project level in the services table).
resource "google_bigquery_dataset_iam_member" "analytics_data_editor" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.analytics.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.service["analytics"].email}"
}

resource "google_bigquery_table" "events" {
  project     = var.project_id
  dataset_id  = google_bigquery_dataset.analytics.dataset_id
  table_id    = "events"
  description = "One row per execution or security event (insertId = event_id)."
  schema      = file("${path.module}/bigquery_events_schema.json")

  time_partitioning {
    type  = "DAY"
    field = "occurred_at"
  }
  clustering = ["agent_id"]

  deletion_protection = true
}
