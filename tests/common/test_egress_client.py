"""The guarded client against real servers: what it reaches, where it connects, what it refuses."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from agora_common.egress import EgressGuard, EgressRefused, IPAddress
from agora_common.egress_client import make_guarded_client
from tests.support.redis import redis_server
from tests.support.servers import free_port, serving

HITS: list[str] = []


async def root(request: Request) -> Response:
    HITS.append(request.url.path)
    return JSONResponse({"ok": "yes"})


async def moved(request: Request) -> Response:
    HITS.append(request.url.path)
    return RedirectResponse("/", status_code=302)


async def slow(request: Request) -> Response:
    await asyncio.sleep(5)
    return JSONResponse({})


APP = Starlette(routes=[Route("/", root), Route("/moved", moved), Route("/slow", slow)])


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def dns(*answers: list[str]):  # type: ignore[no-untyped-def]
    """A resolver that answers each call with the next answer (the last one repeats)."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serving(APP) as base:
        yield base


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ssl.SSLContext]]:
    """The app over https with a self-signed certificate for `agent.example`, and a context
    that trusts it."""
    cert_file, key_file = _certificate(tmp_path_factory.mktemp("tls"), "agent.example")
    trust = ssl.create_default_context(cafile=str(cert_file))
    with serving(APP, ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)) as base:
        yield base, trust


@pytest.fixture(autouse=True)
def _forget_hits() -> None:
    HITS.clear()


async def test_an_admitted_endpoint_is_reached_and_its_neighbour_is_not(upstream: str) -> None:
    port = free_port()
    with redis_server(port):
        seen = redis.Redis(port=port).info("stats")["total_connections_received"]
        guard = EgressGuard(allowed_endpoints=[f"127.0.0.1:{port_of(upstream)}"])
        async with make_guarded_client(guard, timeout_s=2) as client:
            assert (await client.get(f"{upstream}/")).json() == {"ok": "yes"}
            for url in (f"http://127.0.0.1:{port}/", f"http://127.0.0.2:{port_of(upstream)}/"):
                with pytest.raises(EgressRefused):
                    await client.get(url)
        after = redis.Redis(port=port).info("stats")["total_connections_received"]
        assert after == seen + 1  # only the test's own INFO connection: the client never came


async def test_an_admitted_endpoint_stops_being_admitted(upstream: str) -> None:
    running = {port_of(upstream)}

    async def admits(address: IPAddress, port: int) -> bool:
        return address == ipaddress.ip_address("127.0.0.1") and port in running

    async with make_guarded_client(EgressGuard(admits=admits), timeout_s=2) as client:
        assert (await client.get(f"{upstream}/")).status_code == 200
        running.clear()
        with pytest.raises(EgressRefused):  # even on the pooled connection
            await client.get(f"{upstream}/")


async def test_redirects_are_not_followed(upstream: str) -> None:
    guard = EgressGuard(allowed_endpoints=[f"127.0.0.1:{port_of(upstream)}"])
    async with make_guarded_client(guard, timeout_s=2) as client:
        response = await client.get(f"{upstream}/moved")
    assert response.status_code == 302
    assert HITS == ["/moved"]


async def test_a_name_resolves_once_per_connection_through_the_guard(
    tls_upstream: tuple[str, ssl.SSLContext],
) -> None:
    base, trust = tls_upstream
    port = port_of(base)
    # The answer checked before the call is fine; the one at connect time is private.
    resolve = dns(["127.0.0.1"], ["10.0.0.8"])
    guard = EgressGuard(allowed_endpoints=[f"127.0.0.1:{port}"], resolve=resolve)
    assert await guard.check_all(f"https://agent.example:{port}/") == ["127.0.0.1"]
    async with make_guarded_client(guard, timeout_s=2, ssl_context=trust) as client:
        with pytest.raises(EgressRefused):
            await client.get(f"https://agent.example:{port}/")
    assert HITS == []  # nothing connected to an address that was not checked


async def test_the_connection_goes_to_the_address_the_guard_checked(
    tls_upstream: tuple[str, ssl.SSLContext],
) -> None:
    base, trust = tls_upstream
    port = port_of(base)
    resolve = dns(["127.0.0.1"], ["127.0.0.2"])  # rebinds after the first answer
    guard = EgressGuard(allowed_endpoints=[f"127.0.0.1:{port}"], resolve=resolve)
    async with make_guarded_client(guard, timeout_s=2, ssl_context=trust) as client:
        for _ in range(3):  # one connection, kept alive: resolved and checked once
            assert (await client.get(f"https://agent.example:{port}/")).status_code == 200
    assert resolve.calls == ["agent.example"]  # type: ignore[attr-defined]
    assert HITS == ["/", "/", "/"]


async def test_a_slow_answer_times_out(upstream: str) -> None:
    guard = EgressGuard(allowed_endpoints=[f"127.0.0.1:{port_of(upstream)}"])
    async with make_guarded_client(guard, timeout_s=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"{upstream}/slow")


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_https_verifies_the_url_s_host_name_at_the_checked_address(
    tls_upstream: tuple[str, ssl.SSLContext],
) -> None:
    base, trust = tls_upstream
    port = port_of(base)
    guard = EgressGuard(allowed_endpoints=[f"127.0.0.1:{port}"], resolve=dns(["127.0.0.1"]))
    async with make_guarded_client(guard, timeout_s=2, ssl_context=trust) as client:
        response = await client.get(f"https://agent.example:{port}/")
        assert response.json() == {"ok": "yes"}
        # Same address, another name: the certificate does not match, so no exchange.
        with pytest.raises(httpx.TransportError, match="certificate verify failed"):
            await client.get(f"https://other.example:{port}/")
    assert HITS == ["/"]
