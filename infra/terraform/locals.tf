locals {
  # ---------------------------------------------------------------------------
  # The fleet. One entry per service; adding a service is one entry here (and
  # its image in the registry). Everything else (service account, Cloud Run
  # service, env, IAM, outputs) is derived with for_each.
  #
  #   min, max  Cloud Run instance bounds.
  #   public    Internet ingress + unauthenticated invocation. Only the gateway.
  #   roles     Project-level roles for the service's own service account.
  #             Grants scoped to one resource (dataset, key, queue, service
  #             account) live next to that resource instead.
  #   redis     Receives AGORA_<SERVICE>_REDIS_URL (and therefore VPC egress).
  #             Keep in step with the Needs(redis=...) of the service's app.
  #   env       Extra settings, exported as AGORA_<SERVICE>_<KEY>.
  # ---------------------------------------------------------------------------
  services = {
    gateway = {
      min    = var.gateway_min_instances
      max    = var.gateway_max_instances
      public = true
      redis  = true
      roles  = [] # No Firestore: the gateway only routes, authenticates and rate-limits (Redis).
      # + publicKeyViewer on the card-signing key (kms.tf): it serves the JWKS.
      env = {
        CARD_SIGNING_KMS_KEY_VERSION = local.card_signing_key_version
        PUBLIC_URL                   = "https://agora-gateway-${local.run_url_suffix}"
      }
    }
    registry = {
      min    = 0
      max    = 10
      public = false
      redis  = true
      roles  = ["roles/datastore.user"] # + signerVerifier on the card-signing key (kms.tf)
      env = {
        CARD_SIGNING_KMS_KEY_VERSION = local.card_signing_key_version
        # Exported A2A cards name the public execute URL: the gateway's.
        PUBLIC_API_URL = "https://agora-gateway-${local.run_url_suffix}"
      }
    }
    auth = {
      min    = 0
      max    = 5
      public = false
      redis  = false
      # Firebase Auth admin: custom claims (the admin role), user lists, custom tokens.
      # + encrypter/decrypter on the api-keys key (kms.tf), token creator on itself (iam.tf).
      roles = ["roles/datastore.user", "roles/firebaseauth.admin"]
      env = {
        KMS_KEY = google_kms_crypto_key.api_keys.id
      }
    }
    executor = {
      min    = 1
      max    = 20
      public = false
      redis  = true
      # The executor deploys one Cloud Run service per agent (agent-<hash_id>)
      # and grants itself run.invoker on it, which needs run.services.setIamPolicy:
      # roles/run.developer lacks that, so this is run.admin on the project.
      # Cloud Run cannot scope service creation to a name prefix; the blast
      # radius is bounded by the executor being internal-only and invoker-gated.
      # + serviceAccountUser on agora-agent-runtime only (iam.tf).
      # Submitted packages' images: the agoraBuildStarter role, serviceAccountUser
      # on agora-build and reader on agora-tools (cloud_build.tf).
      roles = ["roles/datastore.user", "roles/run.admin"]
      env = {
        REGION                = var.region
        AGENT_SERVICE_ACCOUNT = google_service_account.agent_runtime.email
        BUILD_SERVICE_ACCOUNT = google_service_account.build.email
        ARTIFACT_REPOSITORY   = google_artifact_registry_repository.tools.repository_id
      }
    }
    tool = {
      min    = 0
      max    = 5
      public = false
      redis  = true
      roles  = ["roles/datastore.user"] # + objectCreator, objectViewer on the sources bucket (storage.tf)
      env = {
        SOURCE_BUCKET = google_storage_bucket.sources.name
        # The image each submitted package's card names, built there by the executor's builds.
        IMAGE_REPOSITORY = local.tool_images_repository
        # Cloud Scheduler reconciles (scheduler.tf): no loop in an instance that may be paused.
        RECONCILE_INTERVAL_S = "0"
      }
    }
    analytics = {
      min    = 0
      max    = 3
      public = false
      redis  = false
      roles  = ["roles/datastore.user", "roles/bigquery.jobUser"] # + dataEditor on the dataset (data_stores.tf)
      env = {
        DATASET  = google_bigquery_dataset.analytics.dataset_id
        LOCATION = var.bigquery_location
      }
    }
    vetting = {
      min    = 0
      max    = 2
      public = false
      redis  = false
      roles  = ["roles/datastore.user"] # + enqueuer on agora-scans, actAs agora-tasks-invoker (tasks.tf), objectViewer on the sources bucket (storage.tf)
      env = {
        SOURCE_BUCKET  = google_storage_bucket.sources.name
        TASKS_QUEUE    = google_cloud_tasks_queue.scans.name
        TASKS_LOCATION = var.region
        # Tasks call back into vetting itself; also the OIDC audience.
        TASKS_TARGET_URL = "https://agora-vetting-${local.run_url_suffix}"
        # Scan receipts are signed (+ signerVerifier on the card-signing key, kms.tf).
        CARD_SIGNING_KMS_KEY_VERSION = local.card_signing_key_version
      }
    }
  }

  # ---------------------------------------------------------------------------
  # Who may invoke whom: callee => callers. Each pair becomes one
  # roles/run.invoker binding, and each caller gets its callees' URLs in
  # AGORA_<CALLER>_SERVICE_URLS. Must match each service's
  # allowed_caller_services in code (the app re-checks the caller identity). The gateway is not a callee: it is invoked by
  # allUsers (see run.tf). Cloud Tasks -> vetting is bound in tasks.tf, Cloud Scheduler -> analytics
  # and tool in scheduler.tf.
  # ---------------------------------------------------------------------------
  invokers = {
    registry  = ["gateway", "auth", "executor", "vetting", "analytics", "tool"]
    auth      = ["gateway", "executor", "tool"]
    executor  = ["gateway", "vetting", "tool"]
    tool      = ["gateway", "registry"]
    analytics = ["gateway", "executor"]
    vetting   = ["gateway", "registry", "tool"]
  }

  # caller => sorted callees (the inverse of the table above).
  calls = {
    for caller in keys(local.services) : caller => sort([
      for callee, callers in local.invokers : callee if contains(callers, caller)
    ])
  }

  # "callee/caller" => { callee, caller }, one per invoker binding.
  invoker_bindings = {
    for pair in flatten([
      for callee, callers in local.invokers : [
        for caller in callers : { callee = callee, caller = caller }
      ]
    ]) : "${pair.callee}/${pair.caller}" => pair
  }

  # "service/role" => { service, role }, one per project-level grant.
  project_role_bindings = {
    for pair in flatten([
      for name, svc in local.services : [
        for role in svc.roles : { service = name, role = role }
      ]
    ]) : "${pair.service}/${pair.role}" => pair
  }

  # Cloud Run deterministic URLs: https://<service>-<project number>.<region>.run.app.
  # Known before any service exists, so services can be given each other's URLs
  # without a dependency cycle and from a single for_each resource. (The
  # DNS label "agora-<service>-<project number>" stays well under 63 chars.)
  run_url_suffix = "${data.google_project.this.number}.${var.region}.run.app"
  service_urls = {
    for name in keys(local.services) : name => "https://agora-${name}-${local.run_url_suffix}"
  }

  image_registry = coalesce(
    var.image_registry,
    "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.agora.repository_id}",
  )

  # Services that call another (internal-only) service, or Redis, egress
  # through the VPC. See network.tf for why that is required.
  needs_vpc = {
    for name, svc in local.services : name => svc.redis || length(local.calls[name]) > 0
  }

  # Full container environment per service, in the AGORA_<SERVICE>_ prefix of
  # each service's settings class. Complex settings are JSON. IAM_AUDIENCES is
  # the audience incoming ID tokens must carry: callers mint tokens for the
  # origin of the URL they were given, i.e. the deterministic URL (production
  # settings refuse to start without it).
  service_env = {
    for name, svc in local.services : name => merge(
      {
        "AGORA_${upper(name)}_ENV"           = "production"
        "AGORA_${upper(name)}_PROJECT_ID"    = var.project_id
        "AGORA_${upper(name)}_IAM_AUDIENCES" = jsonencode([local.service_urls[name]])
      },
      length(local.calls[name]) > 0 ? {
        "AGORA_${upper(name)}_SERVICE_URLS" = jsonencode({
          for callee in local.calls[name] : callee => local.service_urls[callee]
        })
      } : {},
      svc.redis ? {
        "AGORA_${upper(name)}_REDIS_URL" = "redis://${google_redis_instance.cache.host}:${google_redis_instance.cache.port}/0"
      } : {},
      { for key, value in svc.env : "AGORA_${upper(name)}_${key}" => value },
    )
  }
}
