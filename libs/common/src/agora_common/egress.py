"""The one egress rule for every URL someone supplied: agents, health checks, probes, webhooks.

A URL is screened (https, no credentials, no query, no internal names, `localhost` refused,
numeric host forms other than a canonical address refused), its host is resolved, and the call is
refused when *any* address is loopback, private, link-local (the metadata address among them),
CGNAT, multicast, reserved or otherwise not global. The connection then goes to the address that
was checked: `agora_common.egress_client` resolves through this guard, so a DNS answer cannot
change between the check and the connection.

Local development may admit more, and only endpoints (address and port), never networks: those
of agents the local runtime started, and those an explicit setting names. Plain http is for such
endpoints only. Production settings refuse the setting; webhooks never get a local allowlist.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from agora_common.errors import BadGateway

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to
Resolve = Callable[[str, int], Awaitable[list[str]]]
# address, port -> whether local development admits it (e.g. an agent the local runtime started)
Admits = Callable[[IPAddress, int], Awaitable[bool]]

METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog"})
# The last label of inet_aton's number forms (`2130706433`, `0x7f000001`, `127.1`, `0177.0.0.1`).
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


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


def literal(host: str) -> IPAddress | None:
    """The address a host names literally (canonical forms only), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def parse_endpoints(texts: Iterable[str]) -> frozenset[tuple[IPAddress, int]]:
    """`address:port` pairs (`[::1]:8080` for IPv6); a malformed one raises ValueError."""
    found = set()
    for text in texts:
        host, sep, port = text.rpartition(":")
        address = literal(host)
        if not sep or address is None or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"not an address:port endpoint: {text!r}")
        found.add((address, int(port)))
    return frozenset(found)


class EgressGuard:
    """Checks a URL and resolves its host to the addresses a connection may use."""

    def __init__(
        self,
        *,
        allowed_endpoints: Iterable[str] = (),
        admits: Admits | None = None,
        resolve: Resolve = system_resolve,
        timeout_s: float = 2.0,
    ) -> None:
        self.allowed_endpoints = parse_endpoints(allowed_endpoints)
        self._admits = admits
        self._resolve = resolve
        self.timeout_s = timeout_s

    @property
    def local(self) -> bool:
        """Whether anything beyond public addresses may ever be admitted."""
        return bool(self.allowed_endpoints) or self._admits is not None

    async def _locally_admitted(self, address: IPAddress, port: int) -> bool:
        if (address, port) in self.allowed_endpoints:
            return True
        return self._admits is not None and await self._admits(address, port)

    async def allowed(self, address: IPAddress, port: int) -> bool:
        return is_public(address) or await self._locally_admitted(address, port)

    def check_url(self, url: str) -> tuple[str, str, int]:
        """(scheme, host, port) of a URL whose form is acceptable; addresses are checked apart."""
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
        if host in METADATA_HOSTS or host == "localhost":
            raise EgressRefused()
        if host.endswith((".internal", ".local", ".localhost")):
            raise EgressRefused()
        address = literal(host)
        if address is None and _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
            # Resolvers read these as addresses (2130706433 is 127.0.0.1): never a name.
            raise EgressRefused("The agent's host is not a canonical address")
        if parts.scheme == "http" and (address is None or not self.local):
            raise EgressRefused("The agent's URL must be https")
        return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)

    async def check(self, url: str) -> tuple[str, str, int]:
        """`check_url`, and a literal address checked too (connectors never resolve those)."""
        scheme, host, port = self.check_url(url)
        address = literal(host)
        if address is not None:
            if scheme == "http" and not await self._locally_admitted(address, port):
                raise EgressRefused("The agent's URL must be https")
            if not await self.allowed(address, port):
                raise EgressRefused()
        return scheme, host, port

    async def check_all(self, url: str) -> list[str]:
        """A URL checked in full now: its form, then every address it resolves to."""
        _, host, port = await self.check(url)
        return await self.addresses(host, port)

    async def addresses(self, host: str, port: int) -> list[str]:
        """Every address of `host`, all checked; refused if any one is not allowed."""
        address = literal(host)
        if address is not None:
            found = [str(address)]
        else:
            try:
                async with asyncio.timeout(self.timeout_s):
                    found = await self._resolve(host, port)
            except (TimeoutError, OSError, UnicodeError, ValueError) as exc:
                raise EgressRefused("The agent's host does not resolve") from exc
        if not found:
            raise EgressRefused("The agent's host does not resolve")
        for text in found:
            resolved = literal(text)
            if resolved is None or not await self.allowed(resolved, port):
                raise EgressRefused()
        return found
