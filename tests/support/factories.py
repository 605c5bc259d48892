"""Plain factory functions for settings and keys used across tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from agora_common.iam.tokens import DevSigner, generate_dev_key
from agora_common.settings import LOCAL_DEV_ISSUER, Environment, service_account_email


def make_dev_key(directory: Path) -> tuple[Path, Path]:
    """A local signing key and its published JWKS."""
    key_file = directory / "dev-signer.pem"
    return key_file, generate_dev_key(key_file)


def local_settings_kwargs(
    key_file: Path, jwks_file: Path, audience: str, **overrides: Any
) -> dict[str, Any]:
    """Constructor arguments for a service's settings in local mode."""
    kwargs: dict[str, Any] = {
        "env": Environment.LOCAL,
        "project_id": "demo-agora-test",
        "iam_dev_key_file": key_file,
        "iam_jwks_url": jwks_file.as_uri(),
        "iam_issuers": (LOCAL_DEV_ISSUER,),
        "iam_audiences": (audience,),
        # Closed ports: these apps open Firestore and Redis clients that the test does not use.
        "firestore_emulator_host": "127.0.0.1:9",
        "redis_url": "redis://127.0.0.1:9/0",
    }
    kwargs.update(overrides)
    return kwargs


def signer_for(key_file: Path, service: str, project_id: str = "demo-agora-test") -> DevSigner:
    """A dev signer that speaks as `service`."""
    email = service_account_email(service, project_id)
    return DevSigner(key_file.read_bytes(), email=email, environment=Environment.LOCAL)


def default_name() -> str:
    """ "QuantFlow", made distinct per test: agents of two owners may not share a name.

    The same within one test (so two calls give one body), different across tests, which share
    one Firestore project per module. Outside a test (collection time) it is plain "QuantFlow".
    """
    current = os.environ.get("PYTEST_CURRENT_TEST")
    if current is None:
        return "QuantFlow"
    test = current.rsplit(" ", 1)[0]  # "path::test[params] (call)"
    return f"QuantFlow {hashlib.sha256(test.encode()).hexdigest()[:8]}"


def card(name: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The issue's minimal card (named by default_name unless `name` is given), with overrides."""
    body: dict[str, Any] = {
        "name": default_name() if name is None else name,
        "description": "Quantitative finance tools",
        "version": "1.0.0",
        "tools": [
            {
                "name": "black_scholes",
                "description": "Price a European option",
                "input_schema": {
                    "type": "object",
                    "properties": {"spot": {"type": "number"}},
                    "required": ["spot"],
                },
            }
        ],
        "deployment": {"url": "https://quantflow.example.com"},
    }
    body.update(overrides)
    return body


__all__ = [
    "card",
    "default_name",
    "local_settings_kwargs",
    "make_dev_key",
    "signer_for",
]
