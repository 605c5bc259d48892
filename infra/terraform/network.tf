# Why a VPC at all:
#
# Every service except the gateway uses ingress INGRESS_TRAFFIC_INTERNAL_ONLY.
# Cloud Run only treats a request as "internal" if it arrives from a VPC
# network in the project (or from Cloud Tasks, Scheduler, Pub/Sub, ... in the
# project). A plain Cloud Run -> *.run.app call leaves over the internet and is
# rejected. So every service that calls another one egresses through
# this VPC using Direct VPC egress (no Serverless VPC Access connector to run
# or pay for) with egress = ALL_TRAFFIC, and the subnet has Private Google
# Access so run.app / googleapis.com traffic stays on Google's network.
#
# ALL_TRAFFIC also sends internet-bound traffic through the VPC, hence the
# Cloud NAT below (Firebase public keys, external agent endpoints, ...).
# Memorystore is reachable only from this VPC, which is the other reason a
# service (e.g. registry, which calls nobody) sits in it.

resource "google_compute_network" "agora" {
  project                 = var.project_id
  name                    = "agora"
  auto_create_subnetworks = false

  depends_on = [google_project_service.enabled]
}

resource "google_compute_subnetwork" "run" {
  project                  = var.project_id
  name                     = "agora-run"
  region                   = var.region
  network                  = google_compute_network.agora.id
  ip_cidr_range            = var.run_subnet_cidr
  private_ip_google_access = true
}

resource "google_compute_router" "agora" {
  project = var.project_id
  name    = "agora"
  region  = var.region
  network = google_compute_network.agora.id
}

resource "google_compute_router_nat" "agora" {
  project                            = var.project_id
  name                               = "agora"
  region                             = var.region
  router                             = google_compute_router.agora.name
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
}
