"""docs/api.md names, for every public route, the module whose handler serves it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from agora_analytics.app import create_app as analytics_app
from agora_analytics.settings import AnalyticsSettings
from agora_auth.app import create_app as auth_app
from agora_auth.settings import AuthSettings
from agora_executor.app import create_app as executor_app
from agora_executor.settings import ExecutorSettings
from agora_gateway.app import OPENAPI_PATH
from agora_gateway.openapi import public_paths
from agora_registry.app import create_app as registry_app
from agora_registry.settings import RegistrySettings
from agora_tool.app import create_app as tool_app
from agora_tool.settings import ToolSettings
from agora_vetting.app import create_app as vetting_app
from agora_vetting.settings import VettingSettings
from tests.support.factories import local_settings_kwargs, make_dev_key

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
# | `GET /api/v1/agents/{agent_id}` | registry | `agora_registry.routes.agents` |
ROW = re.compile(r"^\| `([A-Z]+) (/api/v1\S*)` \| (\w+) \| `([\w.]+)` \|", re.MULTILINE)

APPS: dict[str, tuple[Any, Any]] = {
    "registry": (registry_app, RegistrySettings),
    "auth": (auth_app, AuthSettings),
    "executor": (executor_app, ExecutorSettings),
    "tool": (tool_app, ToolSettings),
    "analytics": (analytics_app, AnalyticsSettings),
    "vetting": (vetting_app, VettingSettings),
}


def handler_modules(service: str) -> dict[tuple[str, str], str]:
    """(method, path) -> module, for every route declared in the service's `routes` package."""
    try:
        package = importlib.import_module(f"agora_{service}.routes")
    except ModuleNotFoundError:
        return {}
    found: dict[tuple[str, str], str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        router = getattr(importlib.import_module(f"{package.__name__}.{info.name}"), "router", None)
        if not isinstance(router, APIRouter):
            continue
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in route.methods:
                    found[(method, route.path)] = route.endpoint.__module__
    return found


def served(tmp_path: Path) -> set[tuple[str, str, str, str]]:
    """(method, public path, service, handler module) of every route the gateway exposes."""
    key_file, jwks_file = make_dev_key(tmp_path)
    rows: set[tuple[str, str, str, str]] = {("GET", OPENAPI_PATH, "gateway", "agora_gateway.app")}
    for service, (create_app, settings_class) in APPS.items():
        settings = settings_class(
            **local_settings_kwargs(key_file, jwks_file, f"http://127.0.0.1/{service}")
        )
        app = create_app(settings)
        assert isinstance(app, FastAPI), f"{service} serves something other than its FastAPI app"
        operations = app.openapi()["paths"]
        for (method, path), module in handler_modules(service).items():
            assert method.lower() in operations[path], f"{service} does not serve {method} {path}"
            for public in public_paths(service, {"paths": {path: {method.lower(): {}}}}):
                rows.add((method, public, service, module))
    return rows


def documented() -> set[tuple[str, str, str, str]]:
    return {
        (method, path, service, module)
        for method, path, service, module in ROW.findall(API_DOC.read_text())
    }


@pytest.fixture(scope="module")
def tmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("route-docs")


def test_every_public_route_names_the_module_that_serves_it(tmp_dir: Path) -> None:
    expected, found = served(tmp_dir), documented()
    table = "\n".join(
        f"| `{method} {path}` | {service} | `{module}` |"
        for method, path, service, module in sorted(expected, key=lambda r: (r[1], r[0]))
    )
    assert found == expected, f"docs/api.md's route table should read:\n{table}"
