"""Firebase ID tokens from the real Auth emulator through the shared verifier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest

from agora_common.errors import Unauthenticated
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
