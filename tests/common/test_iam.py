"""Service-to-service IAM over real HTTP: the verifier's matrix, a real call between services."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from agora_common.iam.tokens import DevSigner, DevSignerRefused
from agora_common.settings import Environment
from agora_registry.app import create_app as create_registry
from agora_registry.settings import RegistrySettings
from agora_vetting.app import create_app as create_vetting
from agora_vetting.settings import VettingSettings
from tests.support.factories import local_settings_kwargs, signer_for
from tests.support.servers import free_port, serving

PROJECT = "demo-agora-test"


@pytest.fixture(scope="module")
def registry(dev_key: tuple[Path, Path]) -> Iterator[str]:
    """A real registry app; its allowlist is gateway, vetting, executor and auth."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = RegistrySettings(**local_settings_kwargs(*dev_key, url))
    with serving(create_registry(settings), port):
        yield url


def whoami(url: str, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{url}/internal/whoami", headers=headers)


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_valid_token_from_an_allowed_caller_is_accepted(
    registry: str, dev_key: tuple[Path, Path]
) -> None:
    token = signer_for(dev_key[0], "gateway").sign(registry)
    response = whoami(registry, token)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "email": f"agora-gateway@{PROJECT}.iam.gserviceaccount.com",
        "subject": f"agora-gateway@{PROJECT}.iam.gserviceaccount.com",
        "audience": registry,
    }


def test_no_token_is_401(registry: str) -> None:
    assert_401(whoami(registry, None))
    assert_401(httpx.get(f"{registry}/internal/whoami", headers={"authorization": "Basic x"}))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": int(time.time()) - 120, "iat": int(time.time()) - 3720}, id="expired"),
        pytest.param({"aud": "https://agora-auth.example.run.app"}, id="wrong-audience"),
        pytest.param({"iss": "https://accounts.google.com"}, id="wrong-issuer"),
        pytest.param({"iat": int(time.time()) + 600, "exp": int(time.time()) + 4200}, id="future"),
        pytest.param({"email_verified": False}, id="email-unverified"),
        pytest.param({"email": None}, id="no-email"),
    ],
)
def test_bad_claims_are_401(registry: str, dev_key: tuple[Path, Path], claims: dict) -> None:
    signer = signer_for(dev_key[0], "gateway")
    assert_401(whoami(registry, signer.sign(registry, **claims)))


def test_a_bad_signature_is_401(registry: str, dev_key: tuple[Path, Path]) -> None:
    real = signer_for(dev_key[0], "gateway")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(real.sign(registry), options={"verify_signature": False})
    forged = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": real.kid})
    assert_401(whoami(registry, forged))


def test_an_unknown_key_id_is_401(registry: str, dev_key: tuple[Path, Path]) -> None:
    real = signer_for(dev_key[0], "gateway")
    claims = jwt.decode(real.sign(registry), options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_401(whoami(registry, jwt.encode(claims, key, algorithm="RS256", headers={"kid": "x"})))


def test_unsigned_and_symmetric_tokens_are_401(registry: str, dev_key: tuple[Path, Path]) -> None:
    real = signer_for(dev_key[0], "gateway")
    claims = jwt.decode(real.sign(registry), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": real.kid})
    assert_401(whoami(registry, unsigned))
    hmac = jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"kid": real.kid})
    assert_401(whoami(registry, hmac))
    assert_401(whoami(registry, "not-a-jwt"))
    assert_401(whoami(registry, "x" * 9000))


def test_a_caller_outside_the_allowlist_is_403(registry: str, dev_key: tuple[Path, Path]) -> None:
    token = signer_for(dev_key[0], "tasks-invoker").sign(registry)
    response = whoami(registry, token)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "CALLER_NOT_ALLOWED"


def test_a_call_between_two_running_services(registry: str, dev_key: tuple[Path, Path]) -> None:
    """The test asks vetting (as the gateway) to call its peers; vetting calls with its identity."""
    port = free_port()
    vetting_url = f"http://127.0.0.1:{port}"
    dead = f"http://127.0.0.1:{free_port()}"
    peers = {"registry": registry, "gone": dead}
    settings = VettingSettings(
        **local_settings_kwargs(*dev_key, vetting_url, service_urls=peers, project_id=PROJECT)
    )
    with serving(create_vetting(settings), port):
        token = signer_for(dev_key[0], "gateway").sign(vetting_url)
        started = time.monotonic()
        response = httpx.get(
            f"{vetting_url}/internal/peers", headers={"authorization": f"Bearer {token}"}
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert response.json()["registry"] == {
            "status": 200,
            "seen_as": f"agora-vetting@{PROJECT}.iam.gserviceaccount.com",
        }
        assert response.json()["gone"]["status"] == 503
        assert elapsed < 2.0, "an unreachable peer must fail fast"
        # Without a token vetting itself refuses the diagnostic call.
        assert httpx.get(f"{vetting_url}/internal/peers").status_code == 401


def test_a_peer_that_does_not_allow_the_caller_answers_403(dev_key: tuple[Path, Path]) -> None:
    """Tool does not allow vetting: the call carries a valid token and is still refused."""
    from agora_tool.app import create_app as create_tool
    from agora_tool.settings import ToolSettings

    tool_port, vetting_port = free_port(), free_port()
    tool_url, vetting_url = f"http://127.0.0.1:{tool_port}", f"http://127.0.0.1:{vetting_port}"
    tool = ToolSettings(**local_settings_kwargs(*dev_key, tool_url))
    vetting = VettingSettings(
        **local_settings_kwargs(*dev_key, vetting_url, service_urls={"tool": tool_url})
    )
    with serving(create_tool(tool), tool_port), serving(create_vetting(vetting), vetting_port):
        token = signer_for(dev_key[0], "gateway").sign(vetting_url)
        response = httpx.get(
            f"{vetting_url}/internal/peers", headers={"authorization": f"Bearer {token}"}
        )
        assert response.json()["tool"] == {"status": 403, "error": "CALLER_NOT_ALLOWED"}


def test_the_dev_signer_refuses_to_start_on_cloud_run(
    dev_key: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("K_SERVICE", "agora-registry")
    with pytest.raises(DevSignerRefused, match="Cloud Run"):
        DevSigner(dev_key[0].read_bytes(), email="x@y.z", environment=Environment.LOCAL)


def test_the_dev_signer_refuses_production_mode(dev_key: tuple[Path, Path]) -> None:
    with pytest.raises(DevSignerRefused, match="local mode"):
        DevSigner(dev_key[0].read_bytes(), email="x@y.z", environment=Environment.PRODUCTION)


async def test_the_dev_signer_caches_one_token_per_audience(dev_key: tuple[Path, Path]) -> None:
    signer = signer_for(dev_key[0], "gateway")
    first = await signer.token("http://a")
    assert await signer.token("http://a") is first
    assert await signer.token("http://b") != first
