"""No secret in any log line: a whole run of storing, reading and rotating keys, logged at DEBUG.

Captured twice: every record the root and "google" loggers see (the app's JSON formatter on an
in-memory handler: service, uvicorn, library and Google client loggers alike), and the process's own
stdout and stderr at the file-descriptor level (the JSON lines as they are really written, plus
anything native code prints).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from agora_auth.app import create_app
from agora_auth.keys.envelope import SealedSecret, UnreadableSecret, associated_data
from agora_auth.keys.local import read_key_file
from agora_auth.keys.records import UserKeys
from agora_auth.keys.rotation import rotate_keys
from agora_auth.keys.wiring import open_key_wrapper
from agora_auth.settings import AuthSettings
from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.logging import CloudJsonFormatter
from tests.auth.conftest import AuthApp, auth_settings, user
from tests.support.kms import KmsStandIn
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.integration


def forms(secret: str | bytes) -> set[str]:
    """The ways a secret could show up in a log line."""
    raw = secret.encode() if isinstance(secret, str) else secret
    found = {
        raw.hex(),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        repr(raw)[2:-1],
        json.dumps(repr(raw))[1:-1],
    }
    if isinstance(secret, str):
        found.add(secret)
    return {f for f in found if len(f) >= 12}


async def data_keys(settings: AuthSettings) -> set[bytes]:
    """Every data key now stored in the project, unwrapped the way the service does it."""
    db = make_firestore_client(settings)
    found: set[bytes] = set()
    try:
        async with open_key_wrapper(settings) as wrapper:
            async for doc in db.collection("api_keys").stream():
                keys = UserKeys.from_document(doc.id, doc.to_dict() or {}, None)
                for name, key in keys.keys.items():
                    sealed: SealedSecret = key.sealed
                    aad = associated_data(doc.id, name)
                    with contextlib.suppress(UnreadableSecret):  # the run's moved record
                        found.add(await wrapper.unwrap(sealed.wrapped_key, aad))
    finally:
        await close_firestore_client(db)
    return found


async def a_run(
    auth: AuthApp, settings: AuthSettings, kms: KmsStandIn | None, seen: set[bytes]
) -> list[str]:
    """Store, list, reveal, change, rotate, fail in the usual ways, delete; the keys used.

    `seen` collects every data key stored along the way.
    """
    alice, bob = user(), user()
    keys = [f"sk-proj-{secrets.token_urlsafe(32)}" for _ in range(4)]
    rejected = f"sk-rejected {secrets.token_urlsafe(24)}"  # a space: refused by validation
    assert (
        await auth.call("PATCH", "/user/api-keys", alice, json={"openai": keys[0], "groq": keys[1]})
    ).status_code == 200
    assert (
        await auth.call("PATCH", "/user/api-keys", bob, json={"openai": keys[2]})
    ).status_code == 200
    seen |= await data_keys(settings)
    assert (await auth.call("GET", "/user/api-keys", alice)).status_code == 200
    reveal = f"/internal/api-keys/{alice.uid}/openai"
    assert (await auth.call("GET", reveal, None, service="executor")).json()["api_key"] == keys[0]
    assert (await auth.call("GET", reveal, alice)).status_code == 403  # the gateway may not
    assert (
        await auth.call("PATCH", "/user/api-keys", alice, json={"openai": rejected})
    ).status_code == 422
    assert (
        await auth.call("PATCH", "/user/api-keys", alice, json={"openai": keys[3], "groq": None})
    ).status_code == 200
    seen |= await data_keys(settings)
    if kms is not None:  # ops make a new primary version in KMS; locally the command does
        version = kms.add_version()
        kms.make_primary(int(version.rsplit("/", 1)[1]))
    result = await rotate_keys(settings)
    assert (result.rewrapped, result.failed) == (2, 0)
    assert (await auth.call("GET", reveal, None, service="executor")).json()["api_key"] == keys[3]
    # bob's record copied under alice's anthropic: refused, and logged as an error
    stored = (await auth.db.collection("api_keys").document(bob.uid or "").get()).to_dict()
    assert stored is not None
    alice_keys = auth.db.collection("api_keys").document(alice.uid or "")
    await alice_keys.update({"providers.anthropic": stored["providers"]["openai"]})
    moved = f"/internal/api-keys/{alice.uid}/anthropic"
    assert (await auth.call("GET", moved, None, service="executor")).status_code == 500
    if kms is not None:
        kms.mode = "unavailable"
        try:
            outage = await auth.call("GET", reveal, None, service="executor")
        finally:
            kms.mode = "ok"
        assert outage.status_code == 503
    assert (await auth.call("DELETE", "/user/api-keys/openai", bob)).status_code == 204
    return [*keys, rejected]


@pytest.mark.parametrize("backend", ["local", "kms"])
async def test_no_secret_reaches_any_log_line(
    backend: str,
    dev_key: tuple[Path, Path],
    emulator_env: dict[str, str],
    tmp_path: Path,
    kms: KmsStandIn,
    capfd: pytest.CaptureFixture[str],
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    project = f"demo-agora-auth-logs-{secrets.token_hex(4)}"
    overrides: dict[str, Any] = {"log_level": "DEBUG", "access_log": True}
    if backend == "local":
        overrides["local_kek_file"] = tmp_path / "kek.json"
    else:
        overrides.update(kms_key=kms.key_name, kms_endpoint=kms.endpoint)
    settings = auth_settings(dev_key, url, project, emulator_env, **overrides)
    app = create_app(settings)  # sets up the service's logging, at DEBUG here
    records = io.StringIO()
    handler = logging.StreamHandler(records)
    handler.setFormatter(CloudJsonFormatter("auth", project))
    # google-api-core stops "google.*" records at the "google" logger (propagate off) unless a
    # deployment routes them on; capture them there too. The KMS client's request logs at DEBUG
    # hold data keys: the service keeps that logger at INFO.
    capturing = [logging.getLogger(), logging.getLogger("google")]
    for logger in capturing:
        logger.addHandler(handler)
    seen_data_keys: set[bytes] = set()
    try:
        with serving(app, port):
            db = make_firestore_client(settings)
            try:
                async with httpx.AsyncClient(timeout=10) as http:
                    auth = AuthApp(url, project, dev_key[0], settings, http, db)
                    used = await a_run(
                        auth, settings, kms if backend == "kms" else None, seen_data_keys
                    )
            finally:
                await close_firestore_client(db)
    finally:
        for logger in capturing:
            logger.removeHandler(handler)
    captured = capfd.readouterr()
    logged = "\n".join((records.getvalue(), captured.out, captured.err))

    # The capture worked: DEBUG lines, the access lines, uvicorn's own and the service's lines.
    assert '"severity": "DEBUG"' in records.getvalue()
    assert '"logger": "agora.request"' in logged
    assert "Application startup complete" in logged
    assert '"logger": "google.cloud.firestore_v1' in logged
    assert "api keys changed" in logged
    assert "stored api key does not decrypt" in logged
    assert len(records.getvalue().splitlines()) > 50

    secret_values: list[str | bytes] = [*used, *seen_data_keys]
    if backend == "kms":
        secret_values += kms.plaintexts  # every data key the run sent to KMS
    else:
        secret_values += read_key_file(settings.local_kek_path).versions.values()
    assert len(seen_data_keys) == 4
    # Counted, not shown: a failure must not print the secrets it found.
    leaked = sum(1 for secret in secret_values for form in forms(secret) if form in logged)
    assert leaked == 0, f"{leaked} forms of secrets reached the logs"
