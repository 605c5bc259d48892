"""The MCP endpoint's OAuth side (RFC 9728) and its Origin rule.

A client that calls `/api/v1/mcp` without a token is told where to sign in: the 401 carries
`WWW-Authenticate: Bearer resource_metadata="<gateway>/.well-known/oauth-protected-resource"`,
and that document names the endpoint as the resource and Firebase's token issuer for the project
as its authorization server. A browser page may call the endpoint only from one of the gateway's
CORS origins (DNS rebinding); clients that send no `Origin` are not browsers and may.
"""

from __future__ import annotations

import re
from typing import Any, Final

from starlette.types import Scope

from agora_gateway.settings import GatewaySettings
from agora_gateway.streams import header

MCP_PATH: Final = "/api/v1/mcp"
METADATA_PATH: Final = "/.well-known/oauth-protected-resource"
# RFC 9728's location for the metadata of a resource with a path (clients may look there first).
METADATA_PATHS: Final = (METADATA_PATH, f"{METADATA_PATH}{MCP_PATH}")
_PORT: Final = r"(:[0-9]{1,5})?"
_HOST: Final = re.compile(rf"([A-Za-z0-9.-]{{1,253}}|\[[0-9A-Fa-f:.]{{2,45}}\]){_PORT}")


def public_origin(settings: GatewaySettings, scope: Scope) -> str:
    """Where clients reach the gateway: `public_url`, else the request's own scheme and host."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = header(scope.get("headers", []), b"host") or ""
    if not _HOST.fullmatch(host):
        host = "localhost"
    scheme = str(scope.get("scheme", "http")) if settings.is_local else "https"
    return f"{scheme}://{host}"


def challenge(origin: str) -> str:
    """The `WWW-Authenticate` value of the MCP endpoint's 401."""
    return f'Bearer resource_metadata="{origin}{METADATA_PATH}"'


def metadata(settings: GatewaySettings, origin: str) -> dict[str, Any]:
    """RFC 9728 protected-resource metadata of the MCP endpoint."""
    return {
        "resource": f"{origin}{MCP_PATH}",
        "authorization_servers": [f"https://securetoken.google.com/{settings.project_id}"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Agora MCP",
    }


def origin_allowed(settings: GatewaySettings, headers: list[tuple[bytes, bytes]]) -> bool:
    """No `Origin` (not a browser), or one of the gateway's CORS origins."""
    origin = header(headers, b"origin")
    if origin is None:
        return True
    return origin in settings.cors_origins or "*" in settings.cors_origins
