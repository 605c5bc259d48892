"""Agora as an MCP server, for real: the MCP SDK's own Streamable HTTP client → gateway
`/api/v1/mcp` → tool service (the catalog) → executor `POST /execute` → QuantFlow's process."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import httpx2
import pytest
from google.cloud import firestore
from mcp.client.client import Client
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import PaginatedRequestParams, Tool

from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.models import CallerKind, UserIdentity
from agora_gateway.settings import DEFAULT_RATE_LIMITS
from agora_tool.app import create_app as create_tool
from agora_tool.mcp_calls import EXECUTION_ID
from agora_tool.mcp_names import mcp_name
from agora_tool.settings import ToolSettings
from tests.e2e.conftest import PROJECT, Stack
from tests.e2e.test_execute import (
    OPTION,
    activate_quantflow,
    call,
    eventually_stored,
)
from tests.e2e.test_personal_tokens import make_token
from tests.support.firebase import EmulatorUser
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.integration

QUANTFLOW_TOOLS = ("black_scholes", "portfolio_metrics", "compound_growth")
JSON_RPC = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "e2e", "version": "1"},
    },
}


@pytest.fixture(scope="module")
def owner(stack: Stack) -> EmulatorUser:
    return stack.auth.sign_up(name="mcp-owner")


@pytest.fixture(scope="module")
def user(stack: Stack) -> EmulatorUser:
    return stack.auth.sign_up(name="mcp-user")


@pytest.fixture(scope="module")
def quantflow(stack: Stack, owner: EmulatorUser) -> dict[str, Any]:
    return activate_quantflow(stack, owner)


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[firestore.AsyncClient]:
    client = make_firestore_client(stack.executor_settings(stack.executor))
    yield client
    await close_firestore_client(client)


def names_of(agent: dict[str, Any]) -> dict[str, str]:
    """QuantFlow's tools by their MCP names."""
    found = {}
    for tool in QUANTFLOW_TOOLS:
        name = mcp_name(agent["name"], agent["id"], tool)
        assert name is not None
        found[name] = tool
    return found


@asynccontextmanager
async def mcp_session(url: str, who: EmulatorUser | dict[str, str]) -> AsyncIterator[ClientSession]:
    """An MCP client session as a user: their ID token, or other headers (a personal token)."""
    headers = who if isinstance(who, dict) else who.bearer
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def every_tool(session: ClientSession, *, max_pages: int = 500) -> list[list[Tool]]:
    """Every page of tools/list, following the cursors."""
    pages: list[list[Tool]] = []
    cursor: str | None = None
    for _ in range(max_pages):
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        result = await session.list_tools(params=params)
        pages.append(result.tools)
        cursor = result.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("tools/list never ended")


async def listed(session: ClientSession, wanted: set[str]) -> dict[str, Tool]:
    """The catalog's tools once `wanted` are all listed (the catalog syncs beside the answer)."""
    tools: dict[str, Tool] = {}
    for _ in range(50):
        tools = {tool.name: tool for page in await every_tool(session) for tool in page}
        if wanted <= set(tools):
            return tools
        await asyncio.sleep(0.1)
    raise AssertionError(f"not listed: {sorted(wanted - set(tools))}")


# --- a real MCP client --------------------------------------------------------------------------


async def test_an_mcp_client_lists_quantflow_and_prices_an_option(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any], db: firestore.AsyncClient
) -> None:
    names = names_of(quantflow)
    async with mcp_session(stack.api("/mcp"), user) as session:
        init = session.initialize_result
        assert init is not None
        assert init.protocol_version == "2025-11-25"
        assert init.capabilities.tools is not None
        assert init.server_info.name == "agora"

        tools = await listed(session, set(names))
        black_scholes = next(n for n, tool in names.items() if tool == "black_scholes")
        tool = tools[black_scholes]
        assert black_scholes.startswith("quantflow")
        assert black_scholes.endswith(".black_scholes")
        assert tool.title == f"black_scholes ({quantflow['name']})"
        assert tool.annotations is not None and tool.annotations.title == tool.title
        assert tool.annotations.read_only_hint is None  # not known, so not claimed
        assert tool.input_schema["properties"]["spot"]["type"] == "number"
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.description

        result = await session.call_tool(black_scholes, OPTION)
    assert result.is_error is False, result.content
    structured = result.structured_content
    assert isinstance(structured, dict)
    assert round(structured["call"]["price"], 4) == 10.4506
    assert result.content[0].type == "text"
    assert json.loads(result.content[0].text) == structured
    # The executor's one execution path ran it, for this user: its log says so.
    assert result.meta is not None
    execution_id = result.meta[EXECUTION_ID]
    log = await eventually_stored(db, "execution_logs", execution_id)
    assert log["status"] == "succeeded"
    assert (log["agent_id"], log["tool_name"]) == (quantflow["id"], "black_scholes")
    assert (log["caller_uid"], log["caller_kind"]) == (user.uid, "user")


async def test_a_personal_api_token_drives_an_mcp_client_until_it_is_revoked(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    """What a desktop client or a script does: an execute-scoped token, no browser sign-in."""
    made = make_token(stack, user, "execute")
    bearer = {"Authorization": f"Bearer {made['token']}"}
    names = names_of(quantflow)
    black_scholes = next(n for n, tool in names.items() if tool == "black_scholes")
    async with mcp_session(stack.api("/mcp"), bearer) as session:
        await listed(session, set(names))
        result = await session.call_tool(black_scholes, OPTION)
    assert result.is_error is False, result.content
    assert isinstance(result.structured_content, dict)
    assert round(result.structured_content["call"]["price"], 4) == 10.4506

    # A read-scoped token may not call tools, over MCP either.
    reader = make_token(stack, user, "read")
    refused = httpx.post(
        stack.api("/mcp"),
        json=INITIALIZE,
        headers=JSON_RPC | {"Authorization": f"Bearer {reader['token']}"},
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "INSUFFICIENT_SCOPE")

    # Revoked: refused at once here (this stack's revocation TTL is 0), with the sign-in pointer.
    assert call(stack, "DELETE", f"/auth/tokens/{made['token_id']}", user).status_code == 204
    gone = httpx.post(stack.api("/mcp"), json=INITIALIZE, headers=JSON_RPC | bearer)
    assert gone.status_code == 401
    assert "resource_metadata=" in gone.headers["WWW-Authenticate"]


async def test_the_stateless_2026_07_28_revision_is_spoken_too(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    """The SDK's high-level client probes `server/discover` first and, finding the stateless
    revision, uses it: no initialize handshake, the envelope on every request."""
    names = names_of(quantflow)
    black_scholes = next(n for n, tool in names.items() if tool == "black_scholes")
    async with (
        httpx2.AsyncClient(headers=user.bearer, timeout=30) as http,
        Client(streamable_http_client(stack.api("/mcp"), http_client=http)) as client,
    ):
        assert client.protocol_version == "2026-07-28"
        result = await client.call_tool(black_scholes, OPTION)
    assert result.is_error is False, result.content
    assert isinstance(result.structured_content, dict)
    assert round(result.structured_content["call"]["price"], 4) == 10.4506


async def test_a_bad_payload_is_a_tool_error_not_a_protocol_error(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    black_scholes = next(n for n, tool in names_of(quantflow).items() if tool == "black_scholes")
    async with mcp_session(stack.api("/mcp"), user) as session:
        bad = await session.call_tool(black_scholes, {**OPTION, "spot": "a hundred"})
        unknown = await session.call_tool("no-such-tool", {})
        missing = await session.call_tool(f"quantflow_{'x' * 22}.black_scholes", OPTION)
    assert bad.is_error is True
    assert "INVALID_PAYLOAD" in bad.content[0].text
    assert "spot" in bad.content[0].text  # the JSON path of what was wrong
    assert bad.structured_content is None
    assert unknown.is_error is True and "Unknown tool" in unknown.content[0].text
    assert missing.is_error is True and "NOT_FOUND" in missing.content[0].text


async def test_pages_follow_the_catalogs_cursors(stack: Stack, quantflow: dict[str, Any]) -> None:
    """A tool service listing one tool a page: every page holds one, none repeats, the cursor
    chain reaches QuantFlow's three."""
    user = stack.auth.sign_up(name="mcp-pager")  # one request a tool: its own rate budget
    with own_tool_service(stack, mcp_page_size=1) as gateway:
        async with mcp_session(f"{gateway}/api/v1/mcp", user) as session:
            await listed(session, set(names_of(quantflow)))
            pages = await every_tool(session)
            with pytest.raises(Exception, match="cursor"):
                await session.list_tools(params=PaginatedRequestParams(cursor="not-a-cursor"))
    assert len(pages) >= 3
    assert all(len(page) <= 1 for page in pages)
    names = [tool.name for page in pages for tool in page]
    assert len(names) == len(set(names))
    assert set(names_of(quantflow)) <= set(names)


@contextmanager
def own_tool_service(stack: Stack, **overrides: Any) -> Iterator[str]:
    """A second tool service with these settings, and a gateway in front of it."""
    port = free_port()
    fleet = stack.fleet.moved(tool=port)
    settings = fleet.settings(ToolSettings, reconcile_interval_s=0, **overrides)
    # Every MCP request counts against the execute group, and walking the whole shared catalog
    # one tool a page is one request a tool: this gateway allows plenty.
    limits = {**DEFAULT_RATE_LIMITS, "execute": "100000/minute"}
    with serving(create_tool(settings), port) as tool:
        urls = {**stack.gateway_settings().service_urls, "tool": tool}
        with stack.serve_gateway(service_urls=urls, rate_limits=limits) as gateway:
            yield gateway


async def test_an_executor_that_does_not_answer_is_a_quick_tool_error(
    stack: Stack, quantflow: dict[str, Any]
) -> None:
    user = stack.auth.sign_up(name="mcp-stranded")
    black_scholes = next(n for n, tool in names_of(quantflow).items() if tool == "black_scholes")
    nowhere = f"http://127.0.0.1:{free_port()}"
    peers = stack.fleet.peers("tool")
    with own_tool_service(stack, service_urls=peers | {"executor": nowhere}) as gateway:
        async with mcp_session(f"{gateway}/api/v1/mcp", user) as session:
            started = time.monotonic()
            result = await session.call_tool(black_scholes, OPTION)
            elapsed = time.monotonic() - started
    assert result.is_error is True
    assert result.content[0].text.startswith("Tools cannot be run right now")
    assert "executor" in result.content[0].text
    assert elapsed < 5


def test_calls_count_against_the_execute_rate_limit(stack: Stack) -> None:
    fresh = stack.auth.sign_up(name="mcp-limited")  # a rate key no other test has used
    with stack.serve_gateway(rate_limits={"execute": "1/minute"}) as gateway:
        url = f"{gateway}/api/v1/mcp"
        answers = [httpx.post(url, json=INITIALIZE, headers=JSON_RPC | fresh.bearer) for _ in "ab"]
        executed = httpx.post(
            f"{gateway}/api/v1/agents/execute",
            json={"agent_id": "x", "tool_name": "y", "payload": {}},
            headers=fresh.bearer,
        )
    assert [a.status_code for a in answers] == [200, 429]
    assert answers[1].json()["error"]["code"] == "RATE_LIMITED"
    assert executed.status_code == 429  # one budget with POST /agents/execute


# --- the HTTP side: protocol version, auth, origin ----------------------------------------------


def test_an_older_protocol_version_is_negotiated_and_honoured(
    stack: Stack, user: EmulatorUser
) -> None:
    init = httpx.post(stack.api("/mcp"), json=INITIALIZE, headers=JSON_RPC | user.bearer)
    assert init.status_code == 200, init.text
    assert init.json()["result"]["protocolVersion"] == "2025-06-18"
    assert "tools" in init.json()["result"]["capabilities"]
    listing = httpx.post(
        stack.api("/mcp"),
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        headers=JSON_RPC | user.bearer | {"MCP-Protocol-Version": "2025-06-18"},
    )
    assert listing.status_code == 200, listing.text
    assert isinstance(listing.json()["result"]["tools"], list)
    unsupported = httpx.post(
        stack.api("/mcp"),
        json={"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
        headers=JSON_RPC | user.bearer | {"MCP-Protocol-Version": "1999-01-01"},
    )
    assert unsupported.status_code == 400


def test_without_a_token_the_401_points_at_the_resource_metadata(stack: Stack) -> None:
    response = httpx.post(stack.api("/mcp"), json=INITIALIZE, headers=JSON_RPC)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    challenge = response.headers["www-authenticate"]
    pointer = f"{stack.gateway}/.well-known/oauth-protected-resource"
    assert challenge == f'Bearer resource_metadata="{pointer}"'
    bad_token = httpx.post(
        stack.api("/mcp"), json=INITIALIZE, headers=JSON_RPC | {"Authorization": "Bearer x.y.z"}
    )
    assert bad_token.status_code == 401
    assert bad_token.headers["www-authenticate"] == challenge

    document = httpx.get(pointer)
    assert document.status_code == 200
    assert document.json() == {
        "resource": f"{stack.gateway}/api/v1/mcp",
        "authorization_servers": [f"https://securetoken.google.com/{PROJECT}"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Agora MCP",
    }
    by_path = httpx.get(f"{stack.gateway}/.well-known/oauth-protected-resource/api/v1/mcp")
    assert by_path.json() == document.json()


def test_a_browser_origin_must_be_one_of_the_gateways(stack: Stack, user: EmulatorUser) -> None:
    console = "http://localhost:5000"
    with stack.serve_gateway(cors_origins=(console,)) as gateway:
        url = f"{gateway}/api/v1/mcp"
        foreign = httpx.post(
            url, json=INITIALIZE, headers=JSON_RPC | user.bearer | {"Origin": "https://evil.test"}
        )
        # Refused before the token is looked at: no token and a foreign Origin is 403 too.
        anonymous = httpx.post(
            url, json=INITIALIZE, headers=JSON_RPC | {"Origin": "https://evil.test"}
        )
        ours = httpx.post(
            url, json=INITIALIZE, headers=JSON_RPC | user.bearer | {"Origin": console}
        )
        plain = httpx.post(url, json=INITIALIZE, headers=JSON_RPC | user.bearer)
    assert foreign.status_code == 403
    assert foreign.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert anonymous.status_code == 403
    assert ours.status_code == 200, ours.text
    assert ours.headers["access-control-allow-origin"] == console
    assert plain.status_code == 200, plain.text


# --- who may call it ----------------------------------------------------------------------------


def test_the_tool_services_endpoint_answers_only_through_the_gateway(
    stack: Stack, user: EmulatorUser
) -> None:
    """Directly: another service may not vouch for a user (403), and without a user it is
    anonymous (401); a caller with no service token is refused (401)."""
    someone = UserIdentity(kind=CallerKind.USER, uid=user.uid, email=user.email)
    as_registry = httpx.post(
        f"{stack.tool}/mcp",
        json=INITIALIZE,
        headers=JSON_RPC | stack.as_service("registry", stack.tool, someone),
    )
    assert as_registry.status_code == 403
    assert as_registry.json()["error"]["code"] == "IDENTITY_NOT_ALLOWED"
    no_user = httpx.post(
        f"{stack.tool}/mcp",
        json=INITIALIZE,
        headers=JSON_RPC | stack.as_service("gateway", stack.tool),
    )
    assert no_user.status_code == 401
    no_service = httpx.post(f"{stack.tool}/mcp", json=INITIALIZE, headers=JSON_RPC)
    assert no_service.status_code == 401


def test_an_agent_is_refused_and_a_get_has_no_stream(
    stack: Stack, owner: EmulatorUser, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    """Agents use /agents/execute, not the MCP endpoint; and stateless MCP offers no GET stream."""
    token = call(stack, "POST", "/auth/token/custom", owner, json={"agent_id": quantflow["id"]})
    assert token.status_code == 200, token.text
    agent = stack.auth.sign_in_with_custom_token(token.json()["custom_token"])
    as_agent = httpx.post(stack.api("/mcp"), json=INITIALIZE, headers=JSON_RPC | agent.bearer)
    assert as_agent.status_code == 403
    assert as_agent.json()["error"]["code"] == "AGENT_NOT_ALLOWED"
    get = httpx.get(stack.api("/mcp"), headers=user.bearer)
    assert get.status_code == 405
    assert get.headers["allow"] == "POST"


def test_the_executor_takes_a_user_from_the_tool_service_and_no_other_service(
    stack: Stack, user: EmulatorUser, quantflow: dict[str, Any]
) -> None:
    """The executor's one additive rule: the tool service may pass on a user (the MCP endpoint
    does); vetting, also allowed to call it, still may not."""
    someone = UserIdentity(kind=CallerKind.USER, uid=user.uid, email=user.email)
    body = {"agent_id": quantflow["id"], "tool_name": "black_scholes", "payload": OPTION}
    url = f"{stack.executor}/execute"
    as_tool = httpx.post(
        url, json=body, headers=stack.as_service("tool", stack.executor, someone), timeout=30
    )
    assert as_tool.status_code == 200, as_tool.text
    assert as_tool.json()["status"] == "succeeded"
    as_vetting = httpx.post(
        url, json=body, headers=stack.as_service("vetting", stack.executor, someone), timeout=30
    )
    assert as_vetting.status_code == 403
    assert as_vetting.json()["error"]["code"] == "IDENTITY_NOT_ALLOWED"
    no_user = httpx.post(url, json=body, headers=stack.as_service("tool", stack.executor))
    assert no_user.status_code == 401
