"""Calling an MCP server someone registered as an agent: the official SDK's client, over the one
guarded outbound client.

The SDK takes an `httpx2.AsyncClient`; its transport here is a bridge to the guarded client
(`agora_common.egress_client`), so every request's URL is checked and every connection goes to
an address the guard resolved. Through the bridge no redirect is followed (the SDK would follow
same-origin ones itself), the bytes read across one session are capped, and the whole session is
bounded in time. Needs the `mcp` extra of agora-common.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, PaginatedRequestParams, Tool

from agora_common.egress import EgressGuard, EgressRefused
from agora_common.errors import AgoraError

T = TypeVar("T")
MAX_TOOL_PAGES = 20
# Request headers the outbound client sets itself for the bytes it sends.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class McpCallFailed(Exception):
    """The server could not be used; `kind` says how: unavailable, timeout or bad_answer."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise McpCallFailed("bad_answer", f"The MCP server's answers exceed {self.limit} bytes")


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, response: httpx.Response, budget: _Budget, bridge: GuardedBridge) -> None:
        self._response = response
        self._budget = budget
        self._bridge = bridge

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                self._budget.spend(len(chunk))
                yield chunk
        except McpCallFailed as exc:
            self._bridge.failure = exc
            raise
        except httpx.TransportError as exc:
            self._bridge.failure = McpCallFailed("bad_answer", "The MCP server broke off")
            raise httpx2.ReadError(str(type(exc).__name__)) from None

    async def aclose(self) -> None:
        await self._response.aclose()


class GuardedBridge(httpx2.AsyncBaseTransport):
    """httpx2's transport interface over the guarded httpx client; the first failure is kept,
    since the SDK reports transport errors its own way."""

    def __init__(self, http: httpx.AsyncClient, max_bytes: int) -> None:
        self._http = http
        self._budget = _Budget(max_bytes)
        self.failure: Exception | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        headers = [
            (k, v) for k, v in request.headers.multi_items() if k.lower() not in _OWN_HEADERS
        ]
        outgoing = self._http.build_request(
            request.method, str(request.url), headers=headers, content=body
        )
        try:
            response = await self._http.send(outgoing, stream=True)
        except AgoraError as exc:  # the guard refused the address
            self.failure = self.failure or exc
            raise httpx2.ConnectError(exc.message) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self.failure = self.failure or McpCallFailed("unavailable", "not reachable")
            raise httpx2.ConnectError(type(exc).__name__) from None
        except httpx.TransportError as exc:
            self.failure = self.failure or McpCallFailed("bad_answer", "The MCP server broke off")
            raise httpx2.ReadError(type(exc).__name__) from None
        if 300 <= response.status_code < 400:
            await response.aclose()
            self.failure = self.failure or McpCallFailed(
                "bad_answer", "The MCP server answered with a redirect, which is not followed"
            )
            raise httpx2.ConnectError("redirect refused")
        return httpx2.Response(
            response.status_code,
            headers=response.headers.multi_items(),
            stream=_CappedStream(response, self._budget, self),
        )


class McpRemote:
    """tools/list and tools/call on a remote MCP server, each in a session of its own."""

    def __init__(self, http: httpx.AsyncClient, guard: EgressGuard) -> None:
        self._http = http  # the guarded client (agora_common.egress_client)
        self._guard = guard

    async def list_tools(self, url: str, *, timeout_s: float, max_bytes: int) -> list[Tool]:
        async def work(session: ClientSession) -> list[Tool]:
            tools: list[Tool] = []
            cursor: str | None = None
            for _ in range(MAX_TOOL_PAGES):
                params = PaginatedRequestParams(cursor=cursor) if cursor else None
                page = await session.list_tools(params=params)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    return tools
            raise McpCallFailed("bad_answer", f"tools/list has more than {MAX_TOOL_PAGES} pages")

        return await self._session(url, work, timeout_s=timeout_s, max_bytes=max_bytes)

    async def call_tool(
        self, url: str, name: str, arguments: dict[str, Any], *, timeout_s: float, max_bytes: int
    ) -> CallToolResult:
        async def work(session: ClientSession) -> CallToolResult:
            result = await session.call_tool(name, arguments)
            if not isinstance(result, CallToolResult):  # e.g. an input request: not supported
                raise McpCallFailed("bad_answer", "The MCP server did not answer with a result")
            return result

        return await self._session(url, work, timeout_s=timeout_s, max_bytes=max_bytes)

    async def _session(
        self,
        url: str,
        work: Callable[[ClientSession], Awaitable[T]],
        *,
        timeout_s: float,
        max_bytes: int,
    ) -> T:
        self._guard.check_url(url)  # the form, at once; addresses are checked as it connects
        bridge = GuardedBridge(self._http, max_bytes)
        client = httpx2.AsyncClient(
            transport=bridge, timeout=timeout_s, follow_redirects=False, trust_env=False
        )
        try:
            async with asyncio.timeout(timeout_s):
                async with (
                    client,
                    streamable_http_client(
                        url, http_client=client, max_sse_event_size=max_bytes
                    ) as (read, write),
                    ClientSession(read, write, read_timeout_seconds=timeout_s) as session,
                ):
                    await session.initialize()
                    return await work(session)
        except TimeoutError:
            raise McpCallFailed("timeout", "The MCP server did not answer in time") from None
        except (McpCallFailed, EgressRefused):
            raise
        except Exception as exc:
            if bridge.failure is not None:
                raise bridge.failure from None
            raise McpCallFailed("bad_answer", "The MCP server's answer is not MCP") from exc


def tool_record(tool: Tool) -> dict[str, Any]:
    """What a scan keeps of one listed tool: its name, description, schemas and a fingerprint."""
    record = {
        "name": tool.name,
        "description": tool.description or "",
        "input_schema": tool.input_schema,
        "output_schema": tool.output_schema,
    }
    return record | {"fingerprint": fingerprint(record)}


def fingerprint(record: dict[str, Any]) -> str:
    """SHA-256 of the tool's name, description and schemas as canonical JSON."""
    fields = {k: record.get(k) for k in ("name", "description", "input_schema", "output_schema")}
    raw = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def tools_fingerprint(records: list[dict[str, Any]]) -> str:
    """One fingerprint of a whole tool list (order does not matter)."""
    return hashlib.sha256("".join(sorted(r["fingerprint"] for r in records)).encode()).hexdigest()


def same_tools_as_card(declared: list[dict[str, Any]], listed: list[Tool]) -> bool:
    """Whether the server lists exactly the card's tools, with the card's descriptions and input
    schemas (what vetting compared when it approved)."""

    def view(name: Any, description: Any, schema: Any) -> str:
        return json.dumps([name, description or "", schema], sort_keys=True)

    mine = sorted(
        view(t.get("name"), t.get("description"), t.get("input_schema")) for t in declared
    )
    theirs = sorted(view(t.name, t.description, t.input_schema) for t in listed)
    return mine == theirs
