"""The production IAM path: Google-signed ID tokens in, google-auth ID tokens out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa

from agora_common.errors import Forbidden, ServiceUnavailable, Unauthenticated
from agora_common.iam.tokens import jwks_for, key_id
from agora_common.iam.verifier import JwksCache, ServiceTokenVerifier
from agora_common.settings import GOOGLE_CERTS_URL, GOOGLE_ISSUERS

AUDIENCE = "https://agora-registry-abc-uc.a.run.app"
GATEWAY = "agora-gateway@agora-prod.iam.gserviceaccount.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = key_id(KEY.public_key())


def google_token(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "sub": "1234567890",
        "email": GATEWAY,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        **overrides,
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": KID})


def verifier(http: httpx.AsyncClient) -> ServiceTokenVerifier:
    return ServiceTokenVerifier(
        JwksCache(GOOGLE_CERTS_URL, http),
        audiences=[AUDIENCE],
        issuers=GOOGLE_ISSUERS,
        allowed_emails=[GATEWAY],
    )


@respx.mock(using="httpx", assert_all_called=False)
async def test_google_signed_tokens_are_verified_with_cached_keys(
    respx_mock: respx.MockRouter,
) -> None:
    certs = respx_mock.get(GOOGLE_CERTS_URL).respond(
        json=jwks_for(KEY.public_key()), headers={"cache-control": "public, max-age=20000"}
    )
    async with httpx.AsyncClient() as http:
        check = verifier(http)
        for _ in range(5):
            identity = await check.verify(google_token(sub=f"{time.time_ns()}"))
            assert identity.email == GATEWAY
        assert certs.call_count == 1, "keys are fetched once, not per request"
        with pytest.raises(Unauthenticated):
            await check.verify(google_token(aud="https://agora-auth-abc-uc.a.run.app"))
        with pytest.raises(Forbidden):
            await check.verify(google_token(email="intruder@else.iam.gserviceaccount.com"))


@respx.mock(using="httpx", assert_all_called=False)
async def test_an_unknown_kid_refetches_at_most_once_per_interval(
    respx_mock: respx.MockRouter,
) -> None:
    certs = respx_mock.get(GOOGLE_CERTS_URL).respond(json=jwks_for(KEY.public_key()))
    async with httpx.AsyncClient() as http:
        check = verifier(http)
        await check.verify(google_token())
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        claims = jwt.decode(google_token(), options={"verify_signature": False})
        for _ in range(3):
            rotated = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "rotated"})
            with pytest.raises(Unauthenticated):
                await check.verify(rotated)
        assert certs.call_count == 1, "junk kids must not hammer Google's endpoint"


@respx.mock(using="httpx", assert_all_called=False)
async def test_an_unreachable_key_endpoint_is_503_not_a_hang(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(GOOGLE_CERTS_URL).mock(side_effect=httpx.ConnectError("down"))
    async with httpx.AsyncClient() as http:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await verifier(http).verify(google_token())
        assert time.monotonic() - started < 1.0


class _MetadataServer(BaseHTTPRequestHandler):
    """Google's metadata server, as much of it as fetch_id_token uses."""

    calls: list[str] = []

    def do_GET(self) -> None:
        if self.headers.get("Metadata-Flavor") != "Google":
            self.send_error(403)
            return
        url = urlsplit(self.path)
        if url.path.endswith("/service-accounts/default/identity"):
            query = parse_qs(url.query)
            type(self).calls.append(query["audience"][0])
            body, kind = google_token(aud=query["audience"][0]).encode(), "application/text"
        elif url.path.endswith("/service-accounts/default/"):
            info = {"email": GATEWAY, "aliases": ["default"], "scopes": []}
            body, kind = json.dumps(info).encode(), "application/json"
        else:
            body, kind = b"ok", "application/text"
        self.send_response(200)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def metadata_server() -> Iterator[str]:
    _MetadataServer.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MetadataServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()


FETCH_SCRIPT = """
import asyncio, json
from agora_common.iam.tokens import GoogleIdTokenSource

async def main():
    source = GoogleIdTokenSource()
    tokens = [await source.token("https://agora-registry-abc-uc.a.run.app") for _ in range(5)]
    tokens.append(await source.token("https://agora-auth-abc-uc.a.run.app"))
    print(json.dumps(tokens))

asyncio.run(main())
"""


def test_google_id_tokens_are_fetched_once_per_audience(metadata_server: str) -> None:
    """Run where google-auth thinks it is on Cloud Run (metadata host read at import)."""
    env = {k: v for k, v in os.environ.items() if k != "GOOGLE_APPLICATION_CREDENTIALS"}
    env.update({"GCE_METADATA_HOST": metadata_server, "GCE_METADATA_IP": metadata_server})
    result = subprocess.run(
        [sys.executable, "-c", FETCH_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    tokens = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(set(tokens[:5])) == 1
    assert jwt.decode(tokens[5], options={"verify_signature": False})["aud"] == (
        "https://agora-auth-abc-uc.a.run.app"
    )
    assert _MetadataServer.calls == [
        "https://agora-registry-abc-uc.a.run.app",
        "https://agora-auth-abc-uc.a.run.app",
    ]
