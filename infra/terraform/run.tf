# The seven services, one resource block driven by local.services.
resource "google_cloud_run_v2_service" "service" {
  for_each = local.services

  project  = var.project_id
  location = var.region
  name     = "agora-${each.key}"

  # Only the gateway is reachable from the internet. Everything else accepts
  # traffic only from the project's VPC (callers use Direct VPC egress, see
  # network.tf) and from Cloud Tasks; IAM (run.invoker) is checked on top.
  ingress = each.value.public ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY"

  deletion_protection = var.deletion_protection

  template {
    service_account = google_service_account.service[each.key].email

    scaling {
      min_instance_count = each.value.min
      max_instance_count = each.value.max
    }

    dynamic "vpc_access" {
      for_each = local.needs_vpc[each.key] ? [true] : []
      content {
        # ALL_TRAFFIC: *.run.app resolves to public Google IPs, so with
        # PRIVATE_RANGES_ONLY the calls would bypass the VPC and be refused by
        # the callees' internal-only ingress.
        egress = "ALL_TRAFFIC"
        network_interfaces {
          network    = google_compute_network.agora.id
          subnetwork = google_compute_subnetwork.run.id
        }
      }
    }

    containers {
      image = "${local.image_registry}/${each.key}:${var.image_tag}"

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = local.service_env[each.key]
        content {
          name  = env.key
          value = env.value
        }
      }
    }
  }

  lifecycle {
    # `make deploy-<service>` rolls out new images with gcloud; terraform owns everything else,
    # so a later apply must not roll a service back to the image tag it was created with.
    ignore_changes = [template[0].containers[0].image, client, client_version]
    precondition {
      condition     = each.value.min <= each.value.max
      error_message = "agora-${each.key}: min instances must not exceed max instances."
    }
  }

  depends_on = [
    google_project_service.enabled,
    # Make sure the VPC path exists before callers start.
    google_compute_router_nat.agora,
  ]
}

# Service-to-service invocation, one binding per (callee, caller) pair of
# local.invokers.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.invoker_bindings

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service[each.value.callee].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.service[each.value.caller].email}"
}

# The public entry: unauthenticated invocation of services marked public
# (only the gateway). The gateway authenticates users itself. Organisations
# with the "Domain restricted sharing" policy must allow allUsers here.
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = { for name, svc in local.services : name => svc if svc.public }

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
