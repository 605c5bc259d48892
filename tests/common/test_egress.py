"""Egress safety: which addresses an agent URL may reach, and that the checked one is used."""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest
from fastapi import FastAPI

from agora_common.egress import EgressGuard, EgressRefused, is_public, system_resolve
from agora_common.http1 import Http1Transport
from tests.support.servers import serving


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # the metadata server
        "100.64.0.1",  # CGNAT
        "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
        "ff02::1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "34.120.1.2", "2001:4860:4860::8888"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """DNS as the test says (real DNS is not reachable here)."""

    async def resolve(host: str, port: int) -> list[str]:
        if host == "slow.example":
            await asyncio.sleep(10)
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


DNS = {
    "agent.example": ["34.120.1.2"],
    "rebind.example": ["10.0.0.8"],
    "mixed.example": ["34.120.1.2", "127.0.0.1"],
    "v6.example": ["2001:4860:4860::8888"],
    "mapped.example": ["::ffff:10.0.0.1"],
}


@pytest.mark.parametrize(
    "url",
    [
        "http://agent.example/",  # plain http
        "https://user:pw@agent.example/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://metadata/",
        "https://db.internal/",
        "https://printer.local/",
        "ftp://agent.example/",
        "https:///nohost",
        "https://agent.example:99999/",
        "http://127.0.0.1:8080/",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(EgressRefused):
        EgressGuard(resolve=resolver(DNS)).check_url(url)


def test_an_acceptable_url() -> None:
    guard = EgressGuard(resolve=resolver(DNS))
    assert guard.check_url("https://Agent.Example./run") == ("https", "agent.example", 443)
    assert guard.check_url("https://agent.example:8443") == ("https", "agent.example", 8443)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "169.254.169.254",
        "10.0.0.1",
        "[::1]",
        "rebind.example",  # a public-looking name resolving to a private address
        "mixed.example",  # any one bad address refuses the name
        "mapped.example",
        "unknown.example",
        "slow.example",  # DNS that hangs is refused at the deadline
    ],
)
async def test_refused_hosts(host: str) -> None:
    guard = EgressGuard(resolve=resolver(DNS), timeout_s=0.2)
    with pytest.raises(EgressRefused):
        await guard.addresses(host, 443)


async def test_public_hosts_resolve_to_their_checked_addresses() -> None:
    guard = EgressGuard(resolve=resolver(DNS))
    assert await guard.addresses("agent.example", 443) == ["34.120.1.2"]
    assert await guard.addresses("v6.example", 443) == ["2001:4860:4860::8888"]


async def test_the_local_allowlist_admits_only_its_networks() -> None:
    guard = EgressGuard(allowed_networks=["127.0.0.0/8"], resolve=resolver(DNS))
    assert await guard.addresses("127.0.0.1", 8080) == ["127.0.0.1"]
    assert guard.check_url("http://127.0.0.1:8080/") == ("http", "127.0.0.1", 8080)
    with pytest.raises(EgressRefused):
        await guard.addresses("10.0.0.1", 80)
    with pytest.raises(EgressRefused):
        guard.check_url("http://agent.example/")


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def test_the_transport_connects_to_the_checked_address() -> None:
    with serving(_app()) as base:
        port = int(base.rsplit(":", 1)[1])
        url = f"http://agent.example:{port}/"  # a name only the test's DNS knows
        allowed = EgressGuard(
            allowed_networks=["127.0.0.0/8"], resolve=resolver({"agent.example": ["127.0.0.1"]})
        )
        transport = Http1Transport(resolve=allowed.addresses)
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(url)
        assert response.json() == {"ok": "yes"}

        guarded = EgressGuard(resolve=resolver({"agent.example": ["127.0.0.1"]}))
        transport = Http1Transport(resolve=guarded.addresses)
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(EgressRefused):
                await client.get(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://agent.example/?next=/internal/agent-secrets/x",
        "https://agent.example/#frag",
        "https://" + "a" * 64 + ".example/",  # a label over 63 characters
        "https://a..b.example/",
    ],
)
async def test_queries_fragments_and_bad_names_are_refused(url: str) -> None:
    guard = EgressGuard(resolve=system_resolve)

    async def check() -> None:
        _, host, port = guard.check_url(url)
        await guard.addresses(host, port)  # the real resolver rejects what slipped through

    with pytest.raises(EgressRefused):
        await check()
