"""Egress safety: which addresses an agent URL may reach, and that the checked one is used."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from agora_common.egress import EgressGuard, EgressRefused, is_public


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
        "https://localhost/",  # refused by name, as by every caller
        "http://localhost:8080/",
        "https://LocalHost./",
        "https://2130706433/",  # numeric forms resolvers read as 127.0.0.1
        "http://2130706433:8080/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://127.1/",
        "https://10.1/",
    ],
)
@pytest.mark.parametrize("local", [False, True])
async def test_refused_urls(url: str, local: bool) -> None:
    endpoints = ["127.0.0.1:80", "127.0.0.1:443"] if local else []
    with pytest.raises(EgressRefused):
        await EgressGuard(allowed_endpoints=endpoints, resolve=resolver(DNS)).check(url)


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


async def test_the_local_allowlist_admits_only_its_endpoints() -> None:
    guard = EgressGuard(allowed_endpoints=["127.0.0.1:8080"], resolve=resolver(DNS))
    assert await guard.addresses("127.0.0.1", 8080) == ["127.0.0.1"]
    assert await guard.check("http://127.0.0.1:8080/") == ("http", "127.0.0.1", 8080)
    for host, port in [("127.0.0.1", 6379), ("127.0.0.2", 8080), ("10.0.0.1", 80)]:
        with pytest.raises(EgressRefused):
            await guard.addresses(host, port)
        with pytest.raises(EgressRefused):
            await guard.check(f"http://{host}:{port}/")
    with pytest.raises(EgressRefused):
        guard.check_url("http://agent.example/")


async def test_plain_http_needs_an_admitted_endpoint() -> None:
    guard = EgressGuard(allowed_endpoints=["127.0.0.1:8080"], resolve=resolver(DNS))
    with pytest.raises(EgressRefused):
        await guard.check("http://34.120.1.2:8080/")  # public, but not a local endpoint


async def test_admitted_endpoints_can_come_and_go() -> None:
    running: set[tuple[str, int]] = {("127.0.0.1", 9001)}

    async def admits(address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bool:
        return (str(address), port) in running

    guard = EgressGuard(admits=admits, resolve=resolver(DNS))
    assert await guard.check("http://127.0.0.1:9001/") == ("http", "127.0.0.1", 9001)
    with pytest.raises(EgressRefused):
        await guard.check("http://127.0.0.1:9002/")
    running.clear()  # the agent stopped: its port is no longer admitted
    with pytest.raises(EgressRefused):
        await guard.check("http://127.0.0.1:9001/")


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "127.0.0.0/8:80", "localhost:80", "1.2.3.4:0", ":80"]
)
def test_malformed_local_endpoints_are_refused_at_start(text: str) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        EgressGuard(allowed_endpoints=[text])
