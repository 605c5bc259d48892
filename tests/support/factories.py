"""Plain factory functions for settings and keys used across tests."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agora_common.iam.tokens import DevSigner
from agora_common.settings import Environment, service_account_email
from agora_devstack.fleetspec import DevKey, LocalFleet, local_iam


def make_dev_key(directory: Path) -> tuple[Path, Path]:
    """A local signing key and its published JWKS."""
    key = DevKey.make(directory)
    return key.key_file, key.jwks_file


def local_fleet(
    dev_key: tuple[Path, Path], emulator_env: Mapping[str, str], project: str, **urls: str
) -> LocalFleet:
    """The fleet of the services at `urls` (by name) on the session's emulators and key.

    Its state (agents' logs, the local KEK unless a test names one) goes beside the key, in the
    session's own temporary directory.
    """
    ports = {name: int(urlsplit(url).port or 0) for name, url in urls.items()}
    return LocalFleet(
        emulator_env, ports, DevKey(*dev_key), state_dir=dev_key[0].parent, project_id=project
    )


def local_settings_kwargs(
    key_file: Path, jwks_file: Path, audience: str, **overrides: Any
) -> dict[str, Any]:
    """Constructor arguments for a service's settings in local mode, on no emulator at all."""
    kwargs: dict[str, Any] = {
        **local_iam(DevKey(key_file, jwks_file), (audience,)),
        "project_id": "demo-agora-test",
        # Closed ports: these apps open Firestore and Redis clients that the test does not use.
        "firestore_emulator_host": "127.0.0.1:9",
        "redis_url": "redis://127.0.0.1:9/0",
        # The registry's and gateway's signing key: beside the dev key, not in the repository.
        "card_signing_key_file": key_file.parent / "keys" / "card-signing.pem",
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
    "local_fleet",
    "local_settings_kwargs",
    "make_dev_key",
    "schema_bomb",
    "signer_for",
]


def schema_bomb(levels: int, width: int = 2, combinator: str = "anyOf") -> dict[str, Any]:
    """`a<i>` is `width` references to `a<i+1>`: one value costs width**levels evaluations."""
    defs: dict[str, Any] = {
        f"a{i}": {combinator: [{"$ref": f"#/$defs/a{i + 1}"}] * width} for i in range(levels)
    }
    defs[f"a{levels}"] = {"type": "string"}
    return {"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/a0"}}}
