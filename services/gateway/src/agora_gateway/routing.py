"""The public API's routing table: data, one row per route, matched in order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# What one {name} segment matches: a path-safe word, or for some names a stricter shape. A tool
# id is `<agent id>.<tool name>`: the dot keeps /tools/{tool_id} off the service's own
# top-level routes (/tools/healthz is no tool).
SEGMENT: Final = "[A-Za-z0-9_~.-]+"
SEGMENTS: Final = {"tool_id": r"[A-Za-z0-9_-]{1,64}\.[a-z][a-z0-9_-]{0,63}"}


@dataclass(frozen=True, slots=True)
class Route:
    methods: frozenset[str]
    pattern: str  # public path under /api/v1, with {name} segments
    service: str
    upstream: str  # path on the service, with the same {name} segments
    group: str  # rate-limit and timeout group
    anonymous: bool = False  # may be called without a token
    agents: bool = False  # may be called by an agent signed in with its custom token
    # The MCP endpoint: a browser's Origin must be one of ours, and a 401 points at the
    # protected-resource metadata (`resource_metadata.py`).
    mcp: bool = False

    def compile(self) -> re.Pattern[str]:
        regex = self.pattern.replace("{path}", "(?P<path>[^?#]+)")
        regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m[1]}>{SEGMENTS.get(m[1], SEGMENT)})", regex)
        return re.compile(f"^{regex}$")


def _r(methods: str, pattern: str, service: str, upstream: str, group: str, **kw: bool) -> Route:
    return Route(frozenset(methods.split()), pattern, service, upstream, group, **kw)


ANY = "GET POST PUT PATCH DELETE"

# An agent (role "agent" in its token) reaches only what an agent needs: finding and reading
# agents and tools, executing tools, and checking its own token. Everything else answers it 403.
ROUTES: Final[tuple[Route, ...]] = (
    _r("POST", "/agents/register", "registry", "/register", "write"),
    _r("POST", "/agents/register/a2a", "registry", "/register/a2a", "write"),
    _r(
        "GET",
        "/agents/{agent_id}/agent-card.json",
        "registry",
        "/{agent_id}/agent-card.json",
        "read",
        anonymous=True,
        agents=True,
    ),
    _r("GET", "/registry/search", "registry", "/search", "read", anonymous=True, agents=True),
    _r("POST", "/agents/execute", "executor", "/execute", "execute", agents=True),
    _r("POST", "/agents/deploy", "executor", "/deploy", "deploy"),
    _r("GET", "/agents/{agent_id}/health", "executor", "/health/{agent_id}", "read", agents=True),
    _r(
        "GET",
        "/agents/{agent_id}/manifest",
        "registry",
        "/{agent_id}/manifest",
        "read",
        anonymous=True,
        agents=True,
    ),
    _r("GET", "/agents/{agent_id}", "registry", "/{agent_id}", "read", anonymous=True, agents=True),
    _r("PATCH DELETE", "/agents/{agent_id}", "registry", "/{agent_id}", "write"),
    _r("POST", "/auth/token/verify", "auth", "/token/verify", "auth", agents=True),
    _r(ANY, "/auth/{path}", "auth", "/{path}", "auth"),
    # Tools: the public catalog, the Tool Factory (its own limit: it runs subprocesses),
    # submissions, and the admins' approval.
    _r("GET", "/tools/catalog", "tool", "/catalog", "read", anonymous=True, agents=True),
    _r("POST", "/tools/generate", "tool", "/generate", "generate"),
    _r("GET", "/tools/generate/{job_id}", "tool", "/generate/{job_id}", "read"),
    _r("GET", "/tools/generate/{job_id}/package", "tool", "/generate/{job_id}/package", "read"),
    _r("POST", "/tools/submit", "tool", "/submit", "write"),
    _r("PATCH", "/tools/{tool_id}/approve", "tool", "/{tool_id}/approve", "admin"),
    _r(
        "GET",
        "/tools/{tool_id}/versions/{version}",
        "tool",
        "/{tool_id}/versions/{version}",
        "read",
        anonymous=True,
        agents=True,
    ),
    _r(
        "PATCH",
        "/tools/{tool_id}/versions/{version}",
        "tool",
        "/{tool_id}/versions/{version}",
        "write",
    ),
    _r(
        "GET",
        "/tools/{tool_id}/versions",
        "tool",
        "/{tool_id}/versions",
        "read",
        anonymous=True,
        agents=True,
    ),
    _r("GET", "/tools/{tool_id}", "tool", "/{tool_id}", "read", anonymous=True, agents=True),
    # Analytics: reads, and alert handling; its ingestion (`/log`) is for services only.
    _r("GET", "/analytics/metrics/{agent_id}", "analytics", "/metrics/{agent_id}", "read"),
    _r("GET", "/analytics/costs", "analytics", "/costs", "read"),
    _r("GET", "/analytics/dashboard", "analytics", "/dashboard", "read"),
    _r("GET", "/analytics/alerts", "analytics", "/alerts", "read"),
    _r("POST", "/analytics/alerts/check", "analytics", "/alerts/check", "write"),
    _r("POST", "/analytics/alerts/{alert_id}/ack", "analytics", "/alerts/{alert_id}/ack", "write"),
    _r(ANY, "/vetting/{path}", "vetting", "/{path}", "admin"),
    # MCP (Streamable HTTP, stateless): the tool service lists the catalog and calls tools
    # through the executor, so calls count in the execute group.
    _r("POST", "/mcp", "tool", "/mcp", "execute", mcp=True),
)


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    upstream_path: str


class Router:
    """Finds the route of a public path; distinguishes unknown paths (404) from methods (405)."""

    def __init__(self, routes: tuple[Route, ...] = ROUTES) -> None:
        self._compiled = [(route, route.compile()) for route in routes]

    def _compiled_routes(self) -> list[Route]:
        return [route for route, _ in self._compiled]

    def match(self, method: str, path: str) -> Match | frozenset[str] | None:
        """The match; or the allowed methods when only the method is wrong; or None.

        `path` is the raw (still percent-encoded) path under /api/v1 and is forwarded as is, so
        anything that a service could decode into another route is refused here.
        """
        if not _is_plain(path):
            return None
        allowed: set[str] = set()
        for route, regex in self._compiled:
            found = regex.match(path)
            if found is None:
                continue
            upstream = route.upstream.format(**found.groupdict())
            if unquote(upstream).lower().startswith(INTERNAL_PREFIXES):  # %69nternal too
                return None
            if method in route.methods or (method == "HEAD" and "GET" in route.methods):
                return Match(route, upstream)
            allowed |= route.methods
        return frozenset(allowed) if allowed else None


# Service-to-service routes and health probes are never reachable through the public API.
INTERNAL_PREFIXES: Final = ("/internal", "/healthz", "/readyz")


def _is_plain(path: str) -> bool:
    """No dot segments, empty segments or encoded separators that could re-route on decode."""
    lowered = path.lower()
    if "%2f" in lowered or "%5c" in lowered or "%2e" in lowered or "\\" in path:
        return False
    segments = path.split("/")[1:]
    return all(segment not in ("", ".", "..") for segment in segments)
