"""Settings: per-service prefix, PORT as on Cloud Run, unsafe values refused outside local mode."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from agora_common.settings import GOOGLE_CERTS_URL, ServiceSettings
from agora_registry.settings import RegistrySettings

PROD = {
    "AGORA_REGISTRY_ENV": "production",
    "AGORA_REGISTRY_PROJECT_ID": "agora-prod",
    "AGORA_REGISTRY_IAM_AUDIENCES": '["https://agora-registry-abc.run.app"]',
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "K_SERVICE",
        "PORT",
        "FIRESTORE_EMULATOR_HOST",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "STORAGE_EMULATOR_HOST",
    ):
        monkeypatch.delenv(name, raising=False)


def _set(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_production_defaults_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, PROD)
    settings = RegistrySettings()
    assert settings.iam_jwks_url == GOOGLE_CERTS_URL
    assert settings.identity_email == "agora-registry@agora-prod.iam.gserviceaccount.com"
    assert "agora-gateway@agora-prod.iam.gserviceaccount.com" in settings.allowed_caller_emails


def test_port_is_read_from_plain_port_like_cloud_run(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, {**PROD, "PORT": "9123"})
    assert RegistrySettings().port == 9123


def test_each_service_reads_only_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, {**PROD, "AGORA_GATEWAY_PROJECT_ID": "someone-else"})
    assert RegistrySettings().project_id == "agora-prod"


def test_the_default_mode_is_production_so_forgetting_settings_fails_closed() -> None:
    with pytest.raises(ValidationError, match="unsafe settings in production"):
        RegistrySettings()


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"FIRESTORE_EMULATOR_HOST": "127.0.0.1:8200"}, "emulator hosts"),
        ({"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}, "emulator hosts"),
        ({"STORAGE_EMULATOR_HOST": "http://127.0.0.1:9023"}, "emulator hosts"),
        ({"AGORA_REGISTRY_IAM_DEV_KEY_FILE": "/tmp/k.pem"}, "development signer"),
        ({"AGORA_REGISTRY_IAM_JWKS_URL": "https://evil.example/jwks"}, "Google-signed"),
        ({"AGORA_REGISTRY_IAM_ISSUERS": '["agora-local-dev-signer"]'}, "Google-signed"),
        ({"AGORA_REGISTRY_PROJECT_ID": "demo-agora"}, "demo project"),
        ({"AGORA_REGISTRY_IAM_AUDIENCES": "[]"}, "iam_audiences is empty"),
        ({"AGORA_REGISTRY_SERVICE_URLS": '{"auth": "http://auth:8080"}'}, "non-https"),
    ],
)
def test_unsafe_values_are_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, str], reason: str
) -> None:
    _set(monkeypatch, {**PROD, **extra})
    with pytest.raises(ValidationError, match=reason):
        RegistrySettings()


def test_local_mode_accepts_development_values(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(
        monkeypatch,
        {
            "AGORA_REGISTRY_ENV": "local",
            "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8200",
            "AGORA_REGISTRY_IAM_DEV_KEY_FILE": "/tmp/k.pem",
            "AGORA_REGISTRY_SERVICE_URLS": '{"auth": "http://127.0.0.1:8082"}',
        },
    )
    settings = RegistrySettings()
    assert settings.is_local
    assert settings.iam_dev_key_file == Path("/tmp/k.pem")


def test_local_mode_is_refused_on_cloud_run(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, {"AGORA_REGISTRY_ENV": "local", "K_SERVICE": "agora-registry"})
    with pytest.raises(ValidationError, match="cannot run on Cloud Run"):
        RegistrySettings()


def test_an_explicit_allowlist_overrides_the_default_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class OnlyOps(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="AGORA_OPS_")
        service_name: ClassVar[str] = "ops"
        allowed_caller_services: ClassVar[tuple[str, ...]] = ("gateway",)

    _set(monkeypatch, {"AGORA_OPS_ENV": "local", "AGORA_OPS_IAM_ALLOWED_CALLERS": '["a@b.c"]'})
    assert OnlyOps().allowed_caller_emails == frozenset({"a@b.c"})
