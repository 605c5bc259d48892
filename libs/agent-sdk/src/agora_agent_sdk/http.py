"""An outbound HTTP client for a tool's upstream API that cannot be turned against the platform.

`guarded_client(base_url)` is an `httpx.AsyncClient` that:

- talks only to its base URL's origin (scheme, host, port), https unless the endpoint is admitted;
- resolves the host itself and refuses the call when *any* address is not public: loopback,
  private, link-local (the metadata address 169.254.169.254 among them), CGNAT, multicast,
  reserved, or one of those wrapped in an IPv6 address (IPv4-mapped, 6to4, Teredo);
- connects to the address it checked (the URL's host is rewritten to it, while the Host header
  and TLS's SNI and certificate check keep the original name), so a DNS answer cannot change
  between the check and the connection;
- never follows redirects, ignores proxy settings from the environment, asks for uncompressed
  answers and refuses compressed ones (their size would not be the size read);
- stops reading an answer past `max_response_bytes`.

`AGORA_AGENT_EGRESS_ALLOW` (`host:port,...`) admits endpoints that are not public, for local
development and tests; a host there is a name or an address (`[::1]:8080` for IPv6).

The address rules mirror the platform's own egress rule (`agora_common.egress`), which the SDK
cannot import: the SDK is independent of the platform's libraries, as third parties use it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import httpx

ALLOW_ENV = "AGORA_AGENT_EGRESS_ALLOW"
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 1_000_000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to
Resolve = Callable[[str, int], Awaitable[list[str]]]

_METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog"})
_INTERNAL_SUFFIXES = (".internal", ".local", ".localhost")
# The last label of inet_aton's number forms (`2130706433`, `0x7f000001`, `127.1`).
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class EgressRefused(httpx.TransportError):
    """The call would leave for an address or URL the guard does not allow."""


class ResponseTooLarge(httpx.TransportError):
    """The answer is larger than the client's `max_response_bytes`."""


def is_public(address: IPAddress) -> bool:
    """Whether an address is globally routable, including the IPv4 address an IPv6 one wraps."""
    inner = _unwrap(address)
    if inner is not address and not is_public(inner):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return embedded
    return address


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def parse_allow(text: str) -> frozenset[tuple[str, int]]:
    """`host:port,...` as (lowercased host or canonical address, port); ValueError if malformed."""
    found: set[tuple[str, int]] = set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, sep, port = item.rpartition(":")
        host = host.strip("[]").lower()
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{ALLOW_ENV}: not a host:port endpoint: {item!r}")
        address = _literal(host)
        found.add((str(address) if address else host, int(port)))
    return frozenset(found)


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise ResponseTooLarge(f"the answer is larger than {self._limit} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks each request's origin and addresses, then sends it to the checked address."""

    def __init__(
        self,
        origin: httpx.URL,
        *,
        allow: Iterable[tuple[str, int]],
        max_response_bytes: int,
        resolve: Resolve,
        resolve_timeout_s: float,
        inner: httpx.AsyncBaseTransport,
    ) -> None:
        self._origin = (origin.scheme, origin.host, _port(origin))
        self._allow = frozenset(allow)
        self._max_response_bytes = max_response_bytes
        self._resolve = resolve
        self._resolve_timeout_s = resolve_timeout_s
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if (url.scheme, url.host, _port(url)) != self._origin:
            raise EgressRefused("this client talks only to its base URL's origin", request=request)
        host, port = url.host.rstrip(".").lower(), _port(url)
        address = await self._checked_address(host, port, request)
        if _literal(host) is None:
            request.url = url.copy_with(host=str(address))
            # Host stays the name (httpx set it from the URL); TLS sends and verifies the name.
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        response = await self._inner.handle_async_request(request)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        declared = response.headers.get("content-length", "")
        problem: httpx.TransportError | None = None
        if encoding != "identity":
            problem = EgressRefused("compressed answers are refused", request=request)
        elif declared.isdigit() and int(declared) > self._max_response_bytes:
            problem = ResponseTooLarge(
                f"the answer is larger than {self._max_response_bytes} bytes", request=request
            )
        if problem is not None:
            await response.aclose()
            raise problem
        if not isinstance(response.stream, httpx.AsyncByteStream):
            raise TypeError("the inner transport must answer with an async stream")
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self._max_response_bytes),
            extensions=response.extensions,
        )

    async def _checked_address(self, host: str, port: int, request: httpx.Request) -> IPAddress:
        """The first address of `host`, when every one of them may be reached."""
        admitted = (host, port) in self._allow
        if not admitted:
            _screen_host(host, request)
        literal = _literal(host)
        if literal is not None:
            found = [str(literal)]
        else:
            try:
                async with asyncio.timeout(self._resolve_timeout_s):
                    found = await self._resolve(host, port)
            except (TimeoutError, OSError, UnicodeError, ValueError):
                raise EgressRefused("the host does not resolve", request=request) from None
        addresses = [a for a in map(_literal, found) if a is not None]
        if not addresses or len(addresses) != len(found):
            raise EgressRefused("the host does not resolve", request=request)
        for address in addresses:
            if not (admitted or is_public(address) or (str(address), port) in self._allow):
                raise EgressRefused(
                    "the host has an address that is not public; only "
                    f"{ALLOW_ENV} admits such endpoints",
                    request=request,
                )
        if request.url.scheme == "http" and not (
            admitted or all((str(a), port) in self._allow for a in addresses)
        ):
            raise EgressRefused("plain http is for admitted endpoints only", request=request)
        return addresses[0]

    async def aclose(self) -> None:
        await self._inner.aclose()


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _screen_host(host: str, request: httpx.Request) -> None:
    """Names that are internal by their form alone, and number forms that are not canonical."""
    if host in _METADATA_HOSTS or host == "localhost" or host.endswith(_INTERNAL_SUFFIXES):
        raise EgressRefused("the host is internal", request=request)
    if _literal(host) is None and _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        raise EgressRefused("the host is not a canonical address", request=request)


def guarded_client(
    base_url: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    allow_hosts: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    resolve: Resolve = system_resolve,
) -> httpx.AsyncClient:
    """A client for `base_url`'s origin only, guarded as this module describes.

    `allow_hosts` defaults to $AGORA_AGENT_EGRESS_ALLOW; `resolve` replaces the system resolver
    (tests use it to give a name a local address).
    """
    origin = httpx.URL(base_url)
    if origin.scheme not in ("http", "https") or not origin.host:
        raise ValueError("base_url must be an absolute http(s) URL")
    if origin.userinfo or origin.query or origin.fragment:
        raise ValueError("base_url must not carry credentials, a query or a fragment")
    if timeout_s <= 0 or max_response_bytes < 1:
        raise ValueError("timeout_s and max_response_bytes must be positive")
    allow = parse_allow(os.environ.get(ALLOW_ENV, "") if allow_hosts is None else allow_hosts)
    inner = httpx.AsyncHTTPTransport(verify=ssl_context or True, trust_env=False, retries=0)
    transport = GuardedTransport(
        origin,
        allow=allow,
        max_response_bytes=max_response_bytes,
        resolve=resolve,
        resolve_timeout_s=timeout_s,
        inner=inner,
    )
    return httpx.AsyncClient(
        base_url=origin,
        transport=transport,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
        headers={"accept-encoding": "identity"},
    )
