"""The MCP endpoint: `POST /mcp` (Streamable HTTP, stateless, JSON answers), for signed-in users
through the gateway. The caller is checked here; the MCP SDK answers the JSON-RPC."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from agora_common.identity import SignedInUser
from agora_tool.mcp_server import USER_STATE
from agora_tool.routes.deps import Mcp

router = APIRouter(tags=["mcp"])


class Delegated(Response):
    """A response that hands the request to another ASGI app, which answers it itself."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__()
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@router.post(
    "/mcp",
    summary="MCP (Streamable HTTP): list the catalog's tools and call them as the signed-in user",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def mcp(request: Request, user: SignedInUser, endpoint: Mcp) -> Response:
    """JSON-RPC `initialize`, `tools/list` (cursor pages) and `tools/call`; see docs/interop.md."""
    setattr(request.state, USER_STATE, user)
    return Delegated(endpoint.handle)
