output "gateway_url" {
  description = "Public URL of the gateway (point Firebase Hosting rewrites / clients here)."
  value       = google_cloud_run_v2_service.service["gateway"].uri
}

output "service_urls" {
  description = "URL of every Cloud Run service, as reported by Cloud Run."
  value       = { for name, svc in google_cloud_run_v2_service.service : name => svc.uri }
}

output "internal_service_urls" {
  description = "Deterministic URLs handed to callers in AGORA_<SERVICE>_SERVICE_URLS."
  value       = local.service_urls
}

output "service_account_emails" {
  description = "Service account of every service."
  value       = { for name, sa in google_service_account.service : name => sa.email }
}

output "agent_runtime_service_account_email" {
  description = "Service account agent services (agent-<hash_id>) run as."
  value       = google_service_account.agent_runtime.email
}

output "tasks_invoker_service_account_email" {
  description = "Service account whose OIDC token Cloud Tasks presents to vetting."
  value       = google_service_account.tasks_invoker.email
}

output "image_registry" {
  description = "Registry prefix to push <service>:<tag> images to."
  value       = local.image_registry
}

output "sources_bucket" {
  description = "Bucket of the package sources (AGORA_TOOL_SOURCE_BUCKET, AGORA_VETTING_SOURCE_BUCKET)."
  value       = google_storage_bucket.sources.name
}

output "build_service_account_email" {
  description = "Service account builds from package sources run as (reads the bucket, pushes images)."
  value       = google_service_account.build.email
}
