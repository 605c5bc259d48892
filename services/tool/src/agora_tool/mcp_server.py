"""The catalog as an MCP server: `tools/list` from the catalog, `tools/call` through the executor.

Built on the MCP SDK's low-level `Server` and its Streamable HTTP session manager, stateless
with JSON answers: every POST stands alone, so any instance can answer it and nothing is kept
between requests. The SDK negotiates the protocol version (`initialize`, `MCP-Protocol-Version`).
The route (`routes/mcp.py`) checks the caller first and puts the user on the request's state.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    Tool,
    ToolAnnotations,
)

from agora_common.errors import ValidationFailed
from agora_common.models import UserIdentity
from agora_tool.catalog import CatalogParams, CatalogService
from agora_tool.mcp_calls import ToolCalls
from agora_tool.mcp_names import mcp_name
from agora_tool.models import ToolPage, ToolView

SERVER_NAME = "agora"
INSTRUCTIONS = (
    "Agora's catalog of tools. Each tool is <agent>_<agent id>.<tool>; calls run on the agent "
    "through Agora's executor, as the signed-in user."
)
# Where the route leaves the verified user for the handlers (`request.state`).
USER_STATE = "agora_user"

Context = ServerRequestContext[Any, Any]


class McpEndpoint:
    """The MCP server and its session manager; `handle` serves one HTTP request."""

    def __init__(
        self, catalog: CatalogService, calls: ToolCalls, *, page_size: int, max_body_bytes: int
    ) -> None:
        self._catalog = catalog
        self._calls = calls
        self._page_size = page_size
        self.server: Server[Any] = Server(
            SERVER_NAME,
            version="1",
            title="Agora",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )
        self.manager = StreamableHTTPSessionManager(
            self.server,
            json_response=True,
            stateless=True,
            max_request_body_size=max_body_bytes,
        )
        self.handle = self.manager.handle_request

    async def _list_tools(
        self, ctx: Context, params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        user = _user(ctx)
        cursor = params.cursor if params is not None else None
        try:
            body = await self._catalog.search(
                user, CatalogParams(cursor=cursor, limit=self._page_size)
            )
        except ValidationFailed as error:
            raise MCPError(INVALID_PARAMS, f"Invalid cursor: {error.message}") from None
        page = ToolPage.model_validate_json(body)
        tools = [tool for view in page.items if (tool := mcp_tool(view)) is not None]
        return ListToolsResult(tools=tools, next_cursor=page.next_cursor)

    async def _call_tool(self, ctx: Context, params: CallToolRequestParams) -> CallToolResult:
        return await self._calls.call(_user(ctx), params.name, params.arguments)


def mcp_tool(view: ToolView) -> Tool | None:
    """A catalog entry as an MCP tool (None: its name cannot be made to fit MCP's rules)."""
    name = mcp_name(view.agent_name, view.agent_id, view.name)
    if name is None:
        return None
    title = f"{view.name} ({view.agent_name})"
    output = view.output_schema
    return Tool(
        name=name,
        title=title,
        description=view.description,
        input_schema=view.input_schema,
        # MCP's outputSchema describes an object (structuredContent); other shapes are left out.
        output_schema=output if output is not None and output.get("type") == "object" else None,
        # Only what is known: whether a tool is read-only, destructive or idempotent is not.
        annotations=ToolAnnotations(title=title),
    )


def _user(ctx: Context) -> UserIdentity:
    state = getattr(ctx.request, "state", None)
    user = getattr(state, USER_STATE, None)
    if not isinstance(user, UserIdentity):  # the route always sets it: a wiring fault
        raise MCPError(INTERNAL_ERROR, "No verified caller")
    return user
