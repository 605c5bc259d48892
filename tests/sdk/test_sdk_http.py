"""The SDK's guarded client against real local servers: what it refuses, and where it connects."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from agora_agent_sdk import EgressRefused, ResponseTooLarge, guarded_client
from agora_agent_sdk.http import ALLOW_ENV, Resolve, is_public, parse_allow
from agora_common import egress
from tests.support.servers import serving

HITS: list[str] = []
CAP = 10_000


async def echo(request: Request) -> Response:
    HITS.append(request.url.path)
    return JSONResponse(
        {"host": request.headers["host"], "encoding": request.headers.get("accept-encoding")}
    )


async def moved(request: Request) -> Response:
    HITS.append(request.url.path)
    return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)


async def streamed(request: Request) -> Response:
    size = int(request.query_params["size"])

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(size // 1000):
            yield b"x" * 1000

    return StreamingResponse(chunks())


async def declared(request: Request) -> Response:
    return Response(b"y" * (CAP + 1))


async def compressed(request: Request) -> Response:
    return Response(gzip.compress(b"z" * 100), headers={"content-encoding": "gzip"})


async def slow(request: Request) -> Response:
    await asyncio.sleep(2)
    return Response(b"late")


APP = Starlette(
    routes=[
        Route("/", echo),
        Route("/moved", moved),
        Route("/streamed", streamed),
        Route("/declared", declared),
        Route("/compressed", compressed),
        Route("/slow", slow),
    ]
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serving(APP) as base:
        yield base


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, ssl.SSLContext]]:
    """https on loopback with a self-signed certificate for `agent.example`, and its trust."""
    cert_file, key_file = _certificate(tmp_path_factory.mktemp("tls"), "agent.example")
    trust = ssl.create_default_context(cafile=str(cert_file))
    with serving(APP, ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)) as base:
        yield httpx.URL(base).port or 443, trust


@pytest.fixture(autouse=True)
def _forget_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    HITS.clear()
    monkeypatch.delenv(ALLOW_ENV, raising=False)


def port_of(url: str) -> int:
    port = httpx.URL(url).port
    assert port is not None
    return port


def resolving_to(*addresses: str) -> Resolve:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_loopback_is_refused_unless_admitted(upstream: str) -> None:
    async with guarded_client(upstream) as client:
        with pytest.raises(EgressRefused, match="not public"):
            await client.get("/")
    assert HITS == []
    async with guarded_client(upstream, allow_hosts=f"127.0.0.1:{port_of(upstream)}") as client:
        answer = await client.get("/")
    assert answer.json()["host"] == f"127.0.0.1:{port_of(upstream)}"
    assert HITS == ["/"]


async def test_the_allow_list_comes_from_the_environment(
    upstream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, f"10.0.0.1:80, 127.0.0.1:{port_of(upstream)}")
    async with guarded_client(upstream) as client:
        assert (await client.get("/")).status_code == 200
    monkeypatch.setenv(ALLOW_ENV, f"127.0.0.1:{port_of(upstream) + 1}")  # another port
    async with guarded_client(upstream) as client:
        with pytest.raises(EgressRefused):
            await client.get("/")
    assert HITS == ["/"]


async def test_a_name_connects_to_its_checked_address_and_keeps_its_host_header(
    upstream: str,
) -> None:
    port = port_of(upstream)
    base = f"http://api.example:{port}"
    loopback = resolving_to("127.0.0.1")
    async with guarded_client(base, allow_hosts=f"api.example:{port}", resolve=loopback) as client:
        answer = (await client.get("/")).json()
    assert answer == {"host": f"api.example:{port}", "encoding": "identity"}
    # Admitting the address admits the name that resolves to it.
    async with guarded_client(base, allow_hosts=f"127.0.0.1:{port}", resolve=loopback) as client:
        assert (await client.get("/")).status_code == 200
    async with guarded_client(base, resolve=loopback) as client:
        with pytest.raises(EgressRefused, match="not public"):
            await client.get("/")
    assert HITS == ["/", "/"]


@pytest.mark.parametrize(
    "answers",
    [["10.0.0.8"], ["8.8.8.8", "127.0.0.1"], ["169.254.169.254"], ["::ffff:127.0.0.1"], []],
)
async def test_a_name_with_any_private_address_is_refused(answers: list[str]) -> None:
    async with guarded_client("https://api.example", resolve=resolving_to(*answers)) as client:
        with pytest.raises(EgressRefused):
            await client.get("/")


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def nowhere(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    async with guarded_client("https://api.example", resolve=nowhere) as client:
        with pytest.raises(EgressRefused, match="does not resolve"):
            await client.get("/")


@pytest.mark.parametrize(
    "base",
    [
        "https://169.254.169.254",
        "https://[::ffff:127.0.0.1]:8443",
        "https://[::1]:8443",
        "https://localhost:8443",
        "https://metadata.google.internal",
        "https://printer.local",
        "https://2130706433",
        "https://0x7f000001",
        "https://224.0.0.1",
    ],
)
async def test_internal_hosts_are_refused_before_any_connection(base: str) -> None:
    async with guarded_client(base, resolve=resolving_to("93.184.215.14")) as client:
        with pytest.raises(EgressRefused):
            await client.get("/")


async def test_plain_http_is_for_admitted_endpoints_only() -> None:
    public = resolving_to("93.184.215.14")
    async with guarded_client("http://api.example", resolve=public) as client:
        with pytest.raises(EgressRefused, match="plain http"):
            await client.get("/")


async def test_the_client_talks_only_to_its_origin(upstream: str) -> None:
    async with guarded_client(upstream, allow_hosts=f"127.0.0.1:{port_of(upstream)}") as client:
        for url in ("https://93.184.215.14/", f"http://127.0.0.2:{port_of(upstream)}/"):
            with pytest.raises(EgressRefused, match="origin"):
                await client.get(url)
    assert HITS == []


async def test_redirects_are_answered_not_followed(upstream: str) -> None:
    async with guarded_client(upstream, allow_hosts=f"127.0.0.1:{port_of(upstream)}") as client:
        answer = await client.get("/moved")
    assert answer.status_code == 302
    assert HITS == ["/moved"]


async def test_answers_are_capped_while_streaming(upstream: str) -> None:
    allow = f"127.0.0.1:{port_of(upstream)}"
    async with guarded_client(upstream, allow_hosts=allow, max_response_bytes=CAP) as client:
        assert len((await client.get("/streamed", params={"size": CAP})).content) == CAP
        with pytest.raises(ResponseTooLarge):
            await client.get("/streamed", params={"size": CAP + 1000})
        with pytest.raises(ResponseTooLarge):
            await client.get("/declared")
        # A stream read by hand is cut as well.
        async with client.stream("GET", "/streamed", params={"size": 50 * CAP}) as response:
            with pytest.raises(ResponseTooLarge):
                await response.aread()


async def test_compressed_answers_are_refused(upstream: str) -> None:
    async with guarded_client(upstream, allow_hosts=f"127.0.0.1:{port_of(upstream)}") as client:
        with pytest.raises(EgressRefused, match="compressed"):
            await client.get("/compressed")


async def test_a_slow_answer_times_out(upstream: str) -> None:
    allow = f"127.0.0.1:{port_of(upstream)}"
    async with guarded_client(upstream, allow_hosts=allow, timeout_s=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")


async def test_https_verifies_the_name_at_the_checked_address(
    tls_upstream: tuple[int, ssl.SSLContext],
) -> None:
    port, trust = tls_upstream
    loopback = resolving_to("127.0.0.1")
    allow = f"127.0.0.1:{port}"
    async with guarded_client(
        f"https://agent.example:{port}", allow_hosts=allow, resolve=loopback, ssl_context=trust
    ) as client:
        assert (await client.get("/")).json()["host"] == f"agent.example:{port}"
    # Same address, another name: the certificate does not match it, so nothing is exchanged.
    async with guarded_client(
        f"https://other.example:{port}", allow_hosts=allow, resolve=loopback, ssl_context=trust
    ) as client:
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            await client.get("/")
    assert HITS == ["/"]


ADDRESSES = [
    "8.8.8.8",
    "93.184.215.14",
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "0.0.0.0",  # noqa: S104 - an address to classify, not to bind
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "2001:4860:4860::8888",
    "::ffff:127.0.0.1",
    "::ffff:8.8.8.8",
    "2002:7f00:1::",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",
]


@pytest.mark.parametrize("text", ADDRESSES)
def test_the_address_rule_is_the_platform_s(text: str) -> None:
    address = ipaddress.ip_address(text)
    assert is_public(address) == egress.is_public(address)


def test_only_a_few_addresses_are_public() -> None:
    public = [text for text in ADDRESSES if is_public(ipaddress.ip_address(text))]
    # An IPv4-mapped address is refused even when the address it wraps is public.
    assert public == ["8.8.8.8", "93.184.215.14", "2001:4860:4860::8888"]


def test_the_allow_list_is_parsed_strictly() -> None:
    assert parse_allow(" Localhost:8080,[::1]:9000 ,127.0.0.1:1") == {
        ("localhost", 8080),
        ("::1", 9000),
        ("127.0.0.1", 1),
    }
    for bad in ("localhost", "localhost:0", "localhost:http", ":80", "host:70000"):
        with pytest.raises(ValueError, match=ALLOW_ENV):
            parse_allow(bad)


@pytest.mark.parametrize(
    "base", ["ftp://example.com", "/relative", "https://user:pw@example.com", "https://a.b/?q=1"]
)
def test_a_bad_base_url_fails_at_once(base: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        guarded_client(base)


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
