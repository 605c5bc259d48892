"""One OpenAPI document for the whole public API, composed from the services' own documents."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import httpx

from agora_common.errors import AgoraError
from agora_common.iam.client import ServiceClient
from agora_gateway.routing import INTERNAL_PREFIXES, ROUTES, Route

log = logging.getLogger("agora.gateway.openapi")

_CACHE_TTL_S = 300.0
_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _upstream_regex(route: Route) -> re.Pattern[str]:
    regex = re.escape(route.upstream).replace(re.escape("{path}"), "(?P<path>.+)")
    regex = re.sub(r"\\\{(\w+)\\\}", r"\{(?P<\1>\\w+)\}", regex)
    return re.compile(f"^{regex}$")


def public_paths(service: str, doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The service's operations that the routing table exposes, under their public paths."""
    out: dict[str, dict[str, Any]] = {}
    for upstream_path, operations in doc.get("paths", {}).items():
        if upstream_path.startswith(INTERNAL_PREFIXES):
            continue
        for route in ROUTES:
            if route.service != service:
                continue
            found = _upstream_regex(route).match(upstream_path)
            if found is None:
                continue
            names = found.groupdict()
            public = route.pattern.replace("{path}", names.pop("path", "{path}"))
            ops = {
                method: _annotate(op, route)
                for method, op in operations.items()
                if method in _HTTP_METHODS and method.upper() in route.methods
            }
            if ops:
                out.setdefault(f"/api/v1{public}", {}).update(ops)
    return out


def _annotate(operation: dict[str, Any], route: Route) -> dict[str, Any]:
    op = dict(operation)
    op["security"] = [{}, {"firebase": []}] if route.anonymous else [{"firebase": []}]
    op.setdefault("tags", [route.service])
    return op


def _prefix_refs(node: Any, service: str) -> Any:
    """Namespace component names per service so two services' `Agent` schemas cannot clash."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/components/schemas/", f"#/components/schemas/{service}.")
                if key == "$ref" and isinstance(value, str)
                else _prefix_refs(value, service)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_prefix_refs(item, service) for item in node]
    return node


def compose(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for service, doc in sorted(docs.items()):
        doc = _prefix_refs(doc, service)
        paths.update(public_paths(service, doc))
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[f"{service}.{name}"] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Agora public API",
            "version": "1",
            "description": "Everything under /api/v1, served by the gateway. Send a Firebase ID "
            "token as `Authorization: Bearer <token>`; routes marked with an empty security "
            "requirement also answer anonymous callers. Every error has the shared envelope.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "firebase": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


class OpenApiComposer:
    """Fetches each service's document with the gateway's identity; caches the composition."""

    def __init__(self, services: ServiceClient) -> None:
        self.services = services
        self._doc: dict[str, Any] | None = None
        self._fetched_at = 0.0

    async def document(self) -> dict[str, Any]:
        if self._doc is None or time.monotonic() - self._fetched_at > _CACHE_TTL_S:
            names = sorted({route.service for route in ROUTES} & set(self.services.service_urls))
            fetched = await asyncio.gather(*(self._fetch(name) for name in names))
            docs = {name: doc for name, doc in zip(names, fetched, strict=True) if doc}
            self._doc, self._fetched_at = compose(docs), time.monotonic()
        return self._doc

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        try:
            response = await self.services.request(service, "GET", "/openapi.json", timeout=5.0)
            response.raise_for_status()
            doc: dict[str, Any] = json.loads(response.content)
            return doc
        except (AgoraError, httpx.HTTPError, ValueError) as exc:  # a missing service: a gap
            log.warning("no OpenAPI document", extra={"service": service, "error": repr(exc)})
            return None
