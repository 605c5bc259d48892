"""The auth service's key settings: production needs Cloud KMS and refuses local key material."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from agora_auth.settings import DEFAULT_LOCAL_KEK_FILE, AuthSettings

KMS_KEY = "projects/agora-prod/locations/us-central1/keyRings/agora/cryptoKeys/api-keys"
PROD = {
    "AGORA_AUTH_ENV": "production",
    "AGORA_AUTH_PROJECT_ID": "agora-prod",
    "AGORA_AUTH_IAM_AUDIENCES": '["https://agora-auth-abc.run.app"]',
    "AGORA_AUTH_KMS_KEY": KMS_KEY,
}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("K_SERVICE", "PORT", "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)


def _set(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_production_with_a_kms_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, PROD)
    settings = AuthSettings()
    assert settings.kms_key == KMS_KEY
    assert settings.kms_endpoint is None
    assert settings.local_kek_file is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"AGORA_AUTH_KMS_KEY": None}, "kms_key is not set"),
        ({"AGORA_AUTH_LOCAL_KEK_FILE": "/tmp/kek.json"}, "local key-encryption key file"),
        ({"AGORA_AUTH_KMS_ENDPOINT": "127.0.0.1:9000"}, "custom KMS endpoint"),
    ],
)
def test_production_refuses_unsafe_key_settings(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, str | None], reason: str
) -> None:
    _set(monkeypatch, PROD)
    for name, value in change.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=reason):
        AuthSettings()


@pytest.mark.parametrize(
    "bad",
    [
        "api-keys",
        "projects/p/locations/l/keyRings/r",
        f"{KMS_KEY}/cryptoKeyVersions/1",  # a version, not the key: rotation would not apply
    ],
)
def test_the_kms_key_must_name_a_crypto_key(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    _set(monkeypatch, {**PROD, "AGORA_AUTH_KMS_KEY": bad})
    with pytest.raises(ValidationError, match="kms_key"):
        AuthSettings()


def test_local_mode_uses_a_key_file_under_the_ignored_local_folder() -> None:
    settings = AuthSettings(env="local")
    assert settings.kms_key is None
    assert settings.local_kek_path == DEFAULT_LOCAL_KEK_FILE
    assert DEFAULT_LOCAL_KEK_FILE.parts[0] == ".local"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(DEFAULT_LOCAL_KEK_FILE)], cwd=REPO, check=False
    )
    assert ignored.returncode == 0, "the key file must never be committed"


def test_local_mode_may_use_a_kms_stand_in() -> None:
    settings = AuthSettings(env="local", kms_key=KMS_KEY, kms_endpoint="127.0.0.1:9000")
    assert settings.kms_endpoint == "127.0.0.1:9000"


def test_terraform_hands_the_kms_key_to_the_setting() -> None:
    """infra/terraform sets AGORA_AUTH_KMS_KEY from the env column; it must be a real field."""
    locals_tf = (REPO / "infra" / "terraform" / "locals.tf").read_text()
    assert "KMS_KEY = google_kms_crypto_key.api_keys.id" in locals_tf
    assert "kms_key" in AuthSettings.model_fields
