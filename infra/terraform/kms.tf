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
