"""What crosses the proxy byte-wise: the capped request body, the relayed answer, headers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
from starlette.types import Receive, Send

from agora_gateway.ratelimit import Decision

# Never forwarded in either direction (RFC 9110 §7.6.1), plus what the gateway owns itself.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    }
)
# Client headers dropped before forwarding: credentials and anything claiming an identity.
DROPPED_REQUEST = HOP_BY_HOP | {
    b"authorization",
    b"cookie",
    b"forwarded",
    b"x-forwarded-for",
    b"content-length",  # the transport frames bodies itself
    b"expect",
}
IDENTITY_PREFIXES = (b"x-user-", b"x-agent-", b"x-goog-authenticated-", b"x-serverless-")


# Answers up to this size are read whole and relayed in one send.
_SMALL_BODY = 256 * 1024


class ClientGone(Exception):
    """Raised from inside the streamed request body when the client disconnects."""


class CappedBody(httpx.AsyncByteStream):
    """The client's body as an async stream; past the cap, `receive` raises (BodyLimit)."""

    def __init__(self, receive: Receive, *, has_body: bool) -> None:
        self.receive = receive
        self.disconnected = False
        self.complete = not has_body  # a request without a body has nothing left to send

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                # Abort: forwarding what arrived as if it were the whole body would be wrong.
                self.disconnected = True
                raise ClientGone()
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self.complete = True
                return


class Relay:
    """Streams the service's answer back, remembering whether the response has started."""

    def __init__(self, send: Send, decision: Decision) -> None:
        self.send = send
        self.decision = decision
        self.started = False

    async def stream(self, response: httpx.Response) -> None:
        raw = response.headers.raw
        await self.send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response_headers(raw, self.decision),
            }
        )
        self.started = True
        # From the raw pairs: httpx's Headers.get guesses the headers' encoding on every call.
        length = next((v for k, v in raw if k.lower() == b"content-length"), b"")
        if length.isdigit() and int(length) <= _SMALL_BODY:  # one send for a small answer
            # Raw bytes straight from the transport: a proxy passes Content-Encoding through.
            stream: Any = response.stream
            body = b"".join([chunk async for chunk in stream])
            await self.send({"type": "http.response.body", "body": body, "more_body": False})
            return
        async for chunk in response.aiter_raw():
            await self.send({"type": "http.response.body", "body": chunk, "more_body": True})
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


# The gateway's own server dates every answer; a second Date from the service would be invalid.
DROPPED_RESPONSE = HOP_BY_HOP | {b"date", b"server"}


def response_headers(
    raw: list[tuple[bytes, bytes]], decision: Decision
) -> list[tuple[bytes, bytes]]:
    out = [(k.lower(), v) for k, v in raw if k.lower() not in DROPPED_RESPONSE]
    out += [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
    return out
