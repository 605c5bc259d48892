"""The routing table: public paths to services, and what can never be reached from outside."""

from __future__ import annotations

import pytest

from agora_gateway.routing import Match, Router

ROUTER = Router()


@pytest.mark.parametrize(
    ("method", "path", "service", "upstream"),
    [
        ("POST", "/agents/register", "registry", "/register"),
        ("GET", "/registry/search", "registry", "/search"),
        ("GET", "/agents/ab12", "registry", "/ab12"),
        ("PATCH", "/agents/ab12", "registry", "/ab12"),
        ("DELETE", "/agents/ab12", "registry", "/ab12"),
        ("GET", "/agents/ab12/manifest", "registry", "/ab12/manifest"),
        ("POST", "/agents/execute", "executor", "/execute"),
        ("POST", "/agents/deploy", "executor", "/deploy"),
        ("GET", "/agents/ab12/health", "executor", "/health/ab12"),
        ("GET", "/auth/user/profile", "auth", "/user/profile"),
        ("GET", "/tools/catalog", "tool", "/catalog"),
        ("GET", "/tools/ab12.price", "tool", "/ab12.price"),
        ("GET", "/tools/ab12.price/versions", "tool", "/ab12.price/versions"),
        ("GET", "/tools/ab12.price/versions/1.2.0", "tool", "/ab12.price/versions/1.2.0"),
        ("PATCH", "/tools/ab12.price/versions/latest", "tool", "/ab12.price/versions/latest"),
        ("PATCH", "/tools/ab12.price/approve", "tool", "/ab12.price/approve"),
        ("POST", "/tools/generate", "tool", "/generate"),
        ("GET", "/tools/generate/j1", "tool", "/generate/j1"),
        ("GET", "/tools/generate/j1/package", "tool", "/generate/j1/package"),
        ("POST", "/tools/submit", "tool", "/submit"),
        ("GET", "/analytics/metrics/ab12", "analytics", "/metrics/ab12"),
        ("POST", "/vetting/ab12/approve", "vetting", "/ab12/approve"),
        ("HEAD", "/agents/ab12", "registry", "/ab12"),
    ],
)
def test_public_routes_reach_their_service(
    method: str, path: str, service: str, upstream: str
) -> None:
    found = ROUTER.match(method, path)
    assert isinstance(found, Match)
    assert (found.route.service, found.upstream_path) == (service, upstream)


@pytest.mark.parametrize(
    "path",
    [
        "/auth/internal/keys/u1/openai",
        "/vetting/internal/tasks/scan",
        "/tools/healthz",
        "/tools/readyz",
        "/tools/whoami",
        "/tools/internal/reconcile",
        "/agents/..%2Finternal%2Fwhoami",
        "/auth/user/../internal/whoami",
        "/auth/user/./profile",
        "/auth//internal",
        "/auth/%2e%2e/internal",
        "/auth/x%5cinternal",
        "/nope",
        "/agents/a/b/c",
    ],
)
def test_internal_and_ambiguous_paths_are_unknown(path: str) -> None:
    assert ROUTER.match("GET", path) is None


def test_a_wrong_method_names_the_allowed_ones() -> None:
    assert ROUTER.match("PUT", "/agents/ab12") == frozenset({"GET", "PATCH", "DELETE"})
    assert ROUTER.match("POST", "/registry/search") == frozenset({"GET"})


def test_only_searches_and_reads_of_agents_and_tools_are_anonymous() -> None:
    anonymous = {
        (method, route.pattern)
        for route in ROUTER._compiled_routes()
        if route.anonymous
        for method in route.methods
    }
    assert anonymous == {
        ("GET", "/registry/search"),
        ("GET", "/agents/{agent_id}"),
        ("GET", "/agents/{agent_id}/manifest"),
        ("GET", "/agents/{agent_id}/agent-card.json"),
        ("GET", "/tools/catalog"),
        ("GET", "/tools/{tool_id}"),
        ("GET", "/tools/{tool_id}/versions"),
        ("GET", "/tools/{tool_id}/versions/{version}"),
    }


@pytest.mark.parametrize(
    ("method", "path", "agents"),
    [
        ("GET", "/registry/search", True),
        ("GET", "/agents/ab12", True),
        ("GET", "/agents/ab12/manifest", True),
        ("GET", "/agents/ab12/health", True),
        ("POST", "/agents/execute", True),
        ("POST", "/auth/token/verify", True),
        ("POST", "/agents/register", False),
        ("POST", "/agents/deploy", False),
        ("PATCH", "/agents/ab12", False),
        ("DELETE", "/agents/ab12", False),
        ("POST", "/auth/token/custom", False),
        ("GET", "/auth/user/profile", False),
        ("GET", "/auth/user/api-keys", False),
        ("GET", "/auth/admin/users", False),
        ("GET", "/tools/catalog", True),
        ("GET", "/tools/ab12.price/versions/latest", True),
        ("POST", "/tools/generate", False),
        ("POST", "/tools/submit", False),
        ("GET", "/analytics/costs", False),
        ("GET", "/vetting/queue", False),
    ],
)
def test_agents_reach_only_what_an_agent_needs(method: str, path: str, agents: bool) -> None:
    found = ROUTER.match(method, path)
    assert isinstance(found, Match)
    assert found.route.agents is agents
