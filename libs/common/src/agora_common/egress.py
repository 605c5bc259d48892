"""Egress safety: the platform connects only to public addresses it has checked itself.

Every URL an agent supplies is an SSRF risk. A URL is screened (https, no credentials), its host
is resolved, and the call is refused when *any* address is loopback, private, link-local (the
metadata address among them), CGNAT, multicast, reserved or otherwise not global. The caller then
connects to the address that was checked (see `Http1Transport(resolve=...)`), so a DNS answer
cannot change between the check and the connection. A local-development allowlist of networks
is possible; production settings refuse it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from agora_common.errors import BadGateway

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to
Resolve = Callable[[str, int], Awaitable[list[str]]]

METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog"})


class EgressRefused(BadGateway):
    code, message = "EGRESS_REFUSED", "The agent's address is not allowed"


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped, 6to4 or Teredo IPv6 address, if any."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return embedded
    return address


def is_public(address: IPAddress) -> bool:
    inner = _unwrap(address)
    if inner is not address and not is_public(inner):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


class EgressGuard:
    """Checks a URL and resolves its host to the addresses a connection may use."""

    def __init__(
        self,
        *,
        allowed_networks: Iterable[str] = (),
        resolve: Resolve = system_resolve,
        timeout_s: float = 2.0,
    ) -> None:
        self.allowed_networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in allowed_networks
        )
        self._resolve = resolve
        self.timeout_s = timeout_s

    def _allowed(self, address: IPAddress) -> bool:
        if any(address in network for network in self.allowed_networks):
            return True
        return is_public(address)

    def check_url(self, url: str) -> tuple[str, str, int]:
        """(scheme, host, port) of an acceptable URL; plain http only for allowlisted hosts."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise EgressRefused("The agent's URL is malformed") from None
        host = (parts.hostname or "").rstrip(".").lower()
        if parts.query or parts.fragment:
            raise EgressRefused("The agent's URL must not carry a query or fragment")
        try:
            host.encode("idna")
        except UnicodeError:
            raise EgressRefused("The agent's host name is not valid") from None
        if parts.scheme not in ("https", "http") or not host:
            raise EgressRefused("The agent's URL must be an absolute https URL")
        if parts.username is not None or parts.password is not None:
            raise EgressRefused("The agent's URL must not carry credentials")
        if host in METADATA_HOSTS or host.endswith((".internal", ".local", ".localhost")):
            raise EgressRefused()
        if parts.scheme == "http" and not self._literal_allowed(host):
            raise EgressRefused("The agent's URL must be https")
        return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)

    def _literal_allowed(self, host: str) -> bool:
        """Plain http is for the local allowlist only (agents on this machine in development)."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self.allowed_networks)

    async def addresses(self, host: str, port: int) -> list[str]:
        """Every address of `host`, all checked; refused if any one is not allowed."""
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            found = [str(literal)]
        else:
            try:
                async with asyncio.timeout(self.timeout_s):
                    found = await self._resolve(host, port)
            except (TimeoutError, OSError, UnicodeError, ValueError) as exc:
                raise EgressRefused("The agent's host does not resolve") from exc
        if not found:
            raise EgressRefused("The agent's host does not resolve")
        for text in found:
            if not self._allowed(ipaddress.ip_address(text.split("%", 1)[0])):
                raise EgressRefused()
        return found
