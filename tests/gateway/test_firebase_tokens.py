"""Firebase ID tokens from the real Auth emulator through the shared verifier."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from firebase_admin import auth

from agora_common.errors import ServiceUnavailable, Unauthenticated
from agora_common.firebase import FirebaseTokenVerifier, token_verifier_for
from agora_gateway.settings import GatewaySettings
from tests.support.factories import local_settings_kwargs
from tests.support.firebase import AuthEmulator

pytestmark = pytest.mark.integration
PROJECT = "demo-agora-test"


@pytest.fixture(scope="module")
def emulator(emulator_env: dict[str, str]) -> AuthEmulator:
    return AuthEmulator(emulator_env["FIREBASE_AUTH_EMULATOR_HOST"], PROJECT)


@pytest.fixture
async def verifier(
    emulator_env: dict[str, str], dev_key: tuple[Path, Path]
) -> AsyncIterator[FirebaseTokenVerifier]:
    settings = GatewaySettings(
        **local_settings_kwargs(
            *dev_key,
            "http://127.0.0.1:1",
            firebase_auth_emulator_host=emulator_env["FIREBASE_AUTH_EMULATOR_HOST"],
        )
    )
    async with httpx.AsyncClient() as http:
        yield token_verifier_for(settings, http, revocation_ttl_s=0)


async def test_an_emulator_token_names_the_user(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    user = emulator.sign_up()
    verified = await verifier.verify(user.token)
    assert (verified.uid, verified.email, verified.admin) == (user.uid, user.email, False)
    assert await verifier.verify(user.token) is verified, "served from the cache"


async def test_the_admin_claim_is_read_from_a_refreshed_token(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    admin = emulator.sign_up(admin=True)
    assert (await verifier.verify(admin.token)).admin


async def test_revoked_and_disabled_users_are_refused_where_revocation_is_checked(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    revoked, disabled = emulator.sign_up(), emulator.sign_up()
    await asyncio.sleep(1.1)  # revocation has one-second resolution
    emulator.revoke(revoked.uid)
    emulator.disable(disabled.uid)
    await verifier.verify(revoked.token)  # reads do not pay for the lookup
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(revoked.token, check_revoked=True)
    assert caught.value.code == "TOKEN_REVOKED"
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(disabled.token, check_revoked=True)
    assert caught.value.code == "USER_DISABLED"


async def test_a_token_for_another_project_is_refused(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    claims = jwt.decode(emulator.sign_up().token, options={"verify_signature": False})
    claims["aud"] = "someone-else"
    claims["iss"] = "https://securetoken.google.com/someone-else"
    forged = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        await verifier.verify(forged)


def test_emulator_mode_is_impossible_in_production_settings() -> None:
    with pytest.raises(ValueError, match="emulator hosts"):
        GatewaySettings(
            env="production",
            project_id="agora-prod",
            iam_audiences=("https://gw.example",),
            firebase_auth_emulator_host="127.0.0.1:9099",
        )


# --- emulator tokens are unsigned: only the user record is trusted --------------------------


def forged(token: str, **changes: object) -> str:
    """A hand-made `alg: none` token: a real token's claims, changed."""
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, None, algorithm="none")


async def test_a_forged_admin_claim_for_a_real_user_grants_nothing(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    user = emulator.sign_up()
    verified = await verifier.verify(forged(user.token, admin=True, role="owner"))
    assert (verified.uid, verified.admin) == (user.uid, False)
    assert "admin" not in verified.claims and "role" not in verified.claims
    assert not verified.identity().admin


async def test_a_token_for_a_uid_that_does_not_exist_is_refused(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    user = emulator.sign_up()
    ghost = forged(user.token, sub="no-such-user-0001", user_id="no-such-user-0001")
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(ghost)
    assert caught.value.code == "INVALID_TOKEN"


async def test_another_users_claims_in_a_token_are_replaced_by_the_record(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    user, admin = emulator.sign_up(), emulator.sign_up(admin=True)
    borrowed = jwt.decode(admin.token, options={"verify_signature": False})
    borrowed.update(sub=user.uid, user_id=user.uid)
    verified = await verifier.verify(jwt.encode(borrowed, None, algorithm="none"))
    assert (verified.uid, verified.email, verified.admin) == (user.uid, user.email, False)
    assert verified.claims["email"] == user.email


async def test_a_disabled_user_is_refused_even_on_reads(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    user = emulator.sign_up()
    assert (await verifier.verify(user.token)).uid == user.uid
    emulator.disable(user.uid)
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(user.token)
    assert caught.value.code == "USER_DISABLED"


async def test_a_granted_claim_counts_once_a_fresh_token_carries_it(
    emulator: AuthEmulator, verifier: FirebaseTokenVerifier
) -> None:
    user = emulator.sign_up()
    auth.set_custom_user_claims(user.uid, {"admin": True}, app=emulator.app)
    assert not (await verifier.verify(user.token)).admin, "the old token has no claim"
    fresh = emulator.sign_in(user.email)
    assert (await verifier.verify(fresh.token)).admin
    auth.set_custom_user_claims(user.uid, None, app=emulator.app)
    assert not (await verifier.verify(fresh.token)).admin, "taken away in the record"


async def test_an_unreachable_auth_emulator_is_a_fast_503(
    emulator: AuthEmulator,
    dev_key: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = emulator.sign_up().token
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", host)  # restored after the test
        settings = GatewaySettings(
            **local_settings_kwargs(
                *dev_key, "http://127.0.0.1:1", firebase_auth_emulator_host=host
            )
        )
        async with httpx.AsyncClient() as http:
            verifier = token_verifier_for(settings, http, revocation_ttl_s=0, lookup_timeout_s=0.5)
            started = time.monotonic()
            with pytest.raises(ServiceUnavailable):
                await verifier.verify(token)
            assert time.monotonic() - started < 1.0
            verifier.close()
