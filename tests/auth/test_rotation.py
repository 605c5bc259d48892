"""Key rotation: every data key re-wrapped under the new version, nothing lost, safe to re-run."""

from __future__ import annotations

import asyncio
import io
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agora_auth.cli import build_parser, main
from agora_auth.keys.agent_secrets import AgentSecrets
from agora_auth.keys.envelope import EnvelopeCipher
from agora_auth.keys.providers import Provider
from agora_auth.keys.repository import AgentSecretRepository, ApiKeyRepository
from agora_auth.keys.rotation import RotationAborted, RotationProgress, rewrap_all, rotate_keys
from agora_auth.keys.service import ApiKeyService
from agora_auth.keys.wiring import open_key_wrapper
from agora_auth.settings import AuthSettings
from agora_common.clients import close_firestore_client, make_firestore_client
from tests.support.kms import KmsStandIn

pytestmark = pytest.mark.integration


def settings_for(
    backend: str, emulator_env: dict[str, str], tmp_path: Path, kms: KmsStandIn, **overrides: Any
) -> AuthSettings:
    """Local-mode settings on a fresh project; the key file or the KMS stand-in as asked."""
    kwargs: dict[str, Any] = {
        "env": "local",
        "project_id": f"demo-agora-rotation-{secrets.token_hex(4)}",
        "firestore_emulator_host": emulator_env["FIRESTORE_EMULATOR_HOST"],
        "dependency_timeout_s": 1.0,
    }
    if backend == "local":
        kwargs["local_kek_file"] = tmp_path / "kek.json"
    else:
        kwargs.update(kms_key=kms.key_name, kms_endpoint=kms.endpoint)
    return AuthSettings(**{**kwargs, **overrides})


@dataclass
class Store:
    """The API keys of one fresh project, through the service as the app wires it."""

    settings: AuthSettings
    service: ApiKeyService
    repository: ApiKeyRepository

    async def documents(self) -> dict[str, dict[str, Any]]:
        page = await self.repository.page(None, 1000)
        return {keys.uid: {name: key.sealed for name, key in keys.keys.items()} for keys in page}


@pytest.fixture(params=["local", "kms"])
async def store(
    request: pytest.FixtureRequest, emulator_env: dict[str, str], tmp_path: Path, kms: KmsStandIn
) -> AsyncIterator[Store]:
    settings = settings_for(request.param, emulator_env, tmp_path, kms)
    db = make_firestore_client(settings)
    try:
        async with open_key_wrapper(settings) as wrapper:
            repository = ApiKeyRepository(db, timeout_s=settings.dependency_timeout_s)
            yield Store(settings, ApiKeyService(repository, EnvelopeCipher(wrapper)), repository)
    finally:
        await close_firestore_client(db)


async def fill(store: Store, users: int) -> dict[tuple[str, Provider], str]:
    """`users` users with two keys each; the plaintexts by (uid, provider)."""
    plaintexts: dict[tuple[str, Provider], str] = {}
    for index in range(users):
        uid = f"user-{index:03d}-{secrets.token_hex(3)}"
        keys = {
            p: f"sk-{p.value}-{secrets.token_urlsafe(24)}" for p in (Provider.OPENAI, Provider.GROQ)
        }
        await store.service.update(uid, dict(keys))
        plaintexts.update({(uid, p): key for p, key in keys.items()})
    return plaintexts


async def new_primary(store: Store, kms: KmsStandIn) -> str | None:
    """With KMS, ops make the new primary version first; locally the command does."""
    if store.settings.kms_key is None:
        return None
    version = kms.add_version()
    kms.make_primary(int(version.rsplit("/", 1)[1]))
    return version


async def test_rotation_rewraps_every_key_and_old_secrets_still_decrypt(
    store: Store, kms: KmsStandIn
) -> None:
    plaintexts = await fill(store, 7)
    before = await store.documents()
    old_versions = {s.wrapped_key.key_version for d in before.values() for s in d.values()}
    kms_version = await new_primary(store, kms)
    lines: list[str] = []
    added: list[str] = []

    result = await rotate_keys(
        store.settings,
        page_size=3,
        on_progress=lambda p: lines.append(p.line()),
        on_new_version=added.append,
    )

    new_version = kms_version or added[0]
    assert result.primary == new_version
    assert new_version not in old_versions
    assert (result.total_documents, result.documents, result.rewrapped) == (7, 7, 14)
    assert result.failed == 0
    assert lines[-1].startswith("re-wrapped 14 keys in 7/7 documents")
    assert len(lines) == 3  # one line per page of three
    after = await store.documents()
    for uid, sealed in after.items():
        for name, secret in sealed.items():
            assert secret.wrapped_key.key_version == new_version
            assert secret.ciphertext == before[uid][name].ciphertext  # only the wrapping changed
    for (uid, provider), plaintext in plaintexts.items():
        assert await store.service.reveal(uid, provider) == plaintext


async def test_running_again_changes_nothing(store: Store, kms: KmsStandIn) -> None:
    await fill(store, 3)
    await new_primary(store, kms)
    await rotate_keys(store.settings)
    before = await store.documents()
    again = await rotate_keys(store.settings, new_local_version=False)
    assert (again.rewrapped, again.current, again.failed) == (0, 6, 0)
    assert await store.documents() == before


async def test_an_interrupted_run_resumes(store: Store, kms: KmsStandIn) -> None:
    plaintexts = await fill(store, 5)
    await new_primary(store, kms)

    class Crash(Exception):
        """The process dying after the first page (say, the operator's laptop going to sleep)."""

    def crash_after_first_page(progress: RotationProgress) -> None:
        raise Crash

    with pytest.raises(Crash):
        await rotate_keys(store.settings, page_size=2, on_progress=crash_after_first_page)
    resumed = await rotate_keys(store.settings, new_local_version=False, page_size=2)
    assert (resumed.rewrapped, resumed.current, resumed.failed) == (6, 4, 0)
    documents = await store.documents()
    versions = {s.wrapped_key.key_version for d in documents.values() for s in d.values()}
    assert versions == {resumed.primary}
    for (uid, provider), plaintext in plaintexts.items():
        assert await store.service.reveal(uid, provider) == plaintext


async def test_a_key_that_does_not_unwrap_is_left_as_it_is_and_the_others_go_on(
    store: Store, kms: KmsStandIn
) -> None:
    plaintexts = await fill(store, 4)
    victim = sorted({uid for uid, _ in plaintexts})[1]
    db = make_firestore_client(store.settings)
    try:
        ref = db.collection("api_keys").document(victim)
        document = (await ref.get()).to_dict() or {}
        damaged = bytearray(document["providers"]["groq"]["wrapped_key"])
        damaged[-1] ^= 1
        await ref.update({"providers.groq.wrapped_key": bytes(damaged)})
        kept = (await ref.get()).to_dict() or {}
        await new_primary(store, kms)

        result = await rotate_keys(store.settings, page_size=2)

        assert (result.rewrapped, result.failed, result.documents) == (7, 1, 4)
        after = (await ref.get()).to_dict() or {}
        assert after["providers"]["groq"] == kept["providers"]["groq"], "left as it was"
        assert after["providers"]["openai"]["key_version"] == result.primary
    finally:
        await close_firestore_client(db)
    # its good key is re-wrapped and decrypts
    assert (
        await store.service.reveal(victim, Provider.OPENAI) == plaintexts[(victim, Provider.OPENAI)]
    )


async def test_a_kms_outage_stops_the_run_early_and_nothing_is_lost(
    emulator_env: dict[str, str], tmp_path: Path, kms: KmsStandIn
) -> None:
    settings = settings_for("kms", emulator_env, tmp_path, kms, dependency_timeout_s=0.3)
    db = make_firestore_client(settings)
    try:
        async with open_key_wrapper(settings) as wrapper:
            repository = ApiKeyRepository(db, timeout_s=1.0)
            cipher = EnvelopeCipher(wrapper)
            store = Store(settings, ApiKeyService(repository, cipher), repository)
            plaintexts = await fill(store, 4)
            before = await store.documents()
            primary = await cipher.primary_version()
            await new_primary(store, kms)
            # KMS goes down once the run has learned the primary version.
            original = cipher.primary_version

            async def then_down() -> str:
                version = await original()
                kms.mode = "unavailable"
                return version

            cipher.primary_version = then_down  # type: ignore[method-assign]
            try:
                with pytest.raises(RotationAborted, match="2 documents failed in a row"):
                    await rewrap_all(repository, cipher, max_consecutive_failures=2)
            finally:
                kms.mode = "ok"
            assert await store.documents() == before
            cipher.primary_version = original  # type: ignore[method-assign]
            result = await rewrap_all(repository, cipher)
            assert (result.rewrapped, result.failed) == (8, 0)
            assert result.primary != primary
            for (uid, provider), plaintext in plaintexts.items():
                assert await store.service.reveal(uid, provider) == plaintext
    finally:
        await close_firestore_client(db)


# --- the command ------------------------------------------------------------------------------


def test_the_command_line_has_rotate_keys_as_a_subcommand() -> None:
    parser = build_parser()
    args = parser.parse_args(["rotate-keys", "--resume", "--page-size", "50"])
    assert (args.command, args.resume, args.page_size) == ("rotate-keys", True, 50)
    with pytest.raises(SystemExit):
        parser.parse_args([])


async def test_rotate_keys_prints_progress_and_exits_0(
    emulator_env: dict[str, str], tmp_path: Path, kms: KmsStandIn
) -> None:
    settings = settings_for("local", emulator_env, tmp_path, kms)
    db = make_firestore_client(settings)
    try:
        async with open_key_wrapper(settings) as wrapper:
            repository = ApiKeyRepository(db, timeout_s=1.0)
            service = ApiKeyService(repository, EnvelopeCipher(wrapper))
            await fill(Store(settings, service, repository), 3)
    finally:
        await close_firestore_client(db)
    out = io.StringIO()
    status = await asyncio.to_thread(
        main, ["rotate-keys", "--page-size", "2"], settings=settings, out=out
    )
    printed = out.getvalue().splitlines()
    assert status == 0, printed
    assert printed[0] == "added key version local/2 to the local key file (now primary)"
    assert printed[1] == ("re-wrapped 4 keys in 2/3 documents (0 already current, 0 failed)")
    assert printed[-1].startswith("done under local/2: re-wrapped 6 keys in 3/3 documents")


def test_python_dash_m_agora_auth_cli_runs_rotate_keys(
    emulator_env: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "kek.json"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AGORA_")},
        "AGORA_AUTH_ENV": "local",
        "AGORA_AUTH_PROJECT_ID": f"demo-agora-cli-{secrets.token_hex(4)}",
        "AGORA_AUTH_LOCAL_KEK_FILE": str(key_file),
        "FIRESTORE_EMULATOR_HOST": emulator_env["FIRESTORE_EMULATOR_HOST"],
    }
    result = subprocess.run(
        [sys.executable, "-m", "agora_auth.cli", "rotate-keys"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "added key version local/2" in result.stdout
    assert "done under local/2: re-wrapped 0 keys in 0/0 documents" in result.stdout
    assert key_file.stat().st_mode & 0o777 == 0o600


async def test_rotation_rewraps_agents_signing_secrets_too(store: Store, kms: KmsStandIn) -> None:
    db = make_firestore_client(store.settings)
    try:
        async with open_key_wrapper(store.settings) as wrapper:
            agent_secrets = AgentSecrets(AgentSecretRepository(db), EnvelopeCipher(wrapper))
            secret = await agent_secrets.issue("agent-1")
            await agent_secrets.promote("agent-1")
        kms_version = await new_primary(store, kms)
        added: list[str] = []
        result = await rotate_keys(store.settings, on_new_version=added.append)
        assert (result.rewrapped, result.failed) == (1, 0)
        stored = (await db.collection("agent_secrets").document("agent-1").get()).to_dict()
        assert stored is not None
        assert stored["current"]["key_version"] == (kms_version or added[0])
        async with open_key_wrapper(store.settings) as wrapper:
            reopened = AgentSecrets(AgentSecretRepository(db), EnvelopeCipher(wrapper))
            assert await reopened.reveal("agent-1") == (secret, None)
    finally:
        await close_firestore_client(db)
