# Envelope encryption for stored API keys (auth service).
resource "google_kms_key_ring" "agora" {
  project  = var.project_id
  name     = "agora"
  location = var.region

  # Key rings cannot be deleted in Cloud KMS; refuse to "destroy" one anyway.
  lifecycle {
    prevent_destroy = true
  }

  depends_on = [google_project_service.enabled]
}

resource "google_kms_crypto_key" "api_keys" {
  name            = "api-keys"
  key_ring        = google_kms_key_ring.agora.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "7776000s" # 90 days

  # Destroying the key makes every stored API key unrecoverable.
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "auth_encrypter_decrypter" {
  crypto_key_id = google_kms_crypto_key.api_keys.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_service_account.service["auth"].email}"
}

# The platform's signing key: exported A2A cards (registry), scan receipts (vetting); the
# gateway publishes its public half as the JWKS. EC P-256 (ES256), in software.
resource "google_kms_crypto_key" "card_signing" {
  name     = "card-signing"
  key_ring = google_kms_key_ring.agora.id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm        = "EC_SIGN_P256_SHA256"
    protection_level = "SOFTWARE"
  }

  # Cloud KMS does not rotate asymmetric keys by itself; the services sign with the one version
  # below and the JWKS publishes it. Destroying it would leave every signed card unverifiable.
  lifecycle {
    prevent_destroy = true
  }
}

locals {
  # The key's first version, which Cloud KMS creates with the key.
  card_signing_key_version = "${google_kms_crypto_key.card_signing.id}/cryptoKeyVersions/1"
}

resource "google_kms_crypto_key_iam_member" "card_signers" {
  for_each      = toset(["registry", "vetting"])
  crypto_key_id = google_kms_crypto_key.card_signing.id
  role          = "roles/cloudkms.signerVerifier"
  member        = "serviceAccount:${google_service_account.service[each.key].email}"
}

resource "google_kms_crypto_key_iam_member" "gateway_public_key_viewer" {
  crypto_key_id = google_kms_crypto_key.card_signing.id
  role          = "roles/cloudkms.publicKeyViewer"
  member        = "serviceAccount:${google_service_account.service["gateway"].email}"
}
