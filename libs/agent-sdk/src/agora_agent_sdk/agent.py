"""`Agent`: declare tools with a decorator, then get a FastAPI app or serve it on $PORT."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from agora_agent_sdk.checks import (
    MAX_CARD_BYTES,
    MAX_TOOLS,
    check_description,
    check_name,
    check_provider_keys,
    check_tags,
    check_version,
)
from agora_agent_sdk.config import AgentConfig
from agora_agent_sdk.errors import add_exception_handlers
from agora_agent_sdk.routes import router
from agora_agent_sdk.runtime import Runtime
from agora_agent_sdk.tools import Tool, make_tool

F = TypeVar("F", bound=Callable[..., Any])

logger = logging.getLogger("agora_agent_sdk")


class Agent:
    """An agent: its card fields and its tools. Bad values fail here, at import, not at deploy."""

    def __init__(
        self,
        name: str,
        description: str,
        version: str,
        *,
        tags: Sequence[str] = (),
        provider_keys: Sequence[str] = (),
    ) -> None:
        self.name = check_name(name)
        self.description = check_description(description)
        self.version = check_version(version)
        self.tags = check_tags(tuple(tags))
        self.provider_keys = check_provider_keys(tuple(provider_keys))
        self._tools: dict[str, Tool] = {}

    @property
    def tools(self) -> Mapping[str, Tool]:
        return MappingProxyType(self._tools)

    def tool(self, *, description: str, name: str | None = None) -> Callable[[F], F]:
        """Declare a tool: `f(payload: SomeModel, ctx: Context) -> result`; ctx optional."""

        def register(func: F) -> F:
            tool = make_tool(func, name=name, description=description)
            if tool.name.lower() in (known.lower() for known in self._tools):
                raise ValueError(f"tool names must be unique (case-insensitively): {tool.name!r}")
            if len(self._tools) >= MAX_TOOLS:
                raise ValueError(f"an agent has at most {MAX_TOOLS} tools")
            self._tools[tool.name] = tool
            return func

        return register

    def card(self, url: str) -> dict[str, Any]:
        """The agent card for an agent reachable at `url`."""
        return self._runtime(AgentConfig()).card(url)

    def app(self, config: AgentConfig | None = None) -> FastAPI:
        """A FastAPI app serving /execute, /health and the card; config from the env by default."""
        config = AgentConfig.from_env() if config is None else config
        runtime = self._runtime(config)
        if config.credentials() is None:
            logger.warning(
                "AGORA_AGENT_HASH_ID and AGORA_AGENT_SECRET (16+ characters) are not both set: "
                "/execute refuses every call with 503 NOT_CONFIGURED"
            )
        app = FastAPI(
            title=self.name,
            version=self.version,
            description=self.description,
            docs_url=None,
            redoc_url=None,
            openapi_url=None,
        )
        app.state.runtime = runtime
        add_exception_handlers(app)
        app.include_router(router)
        return app

    def serve(self, config: AgentConfig | None = None) -> None:
        """Serve the app with uvicorn on config.port ($PORT), the way Cloud Run runs a container."""
        config = AgentConfig.from_env() if config is None else config
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        uvicorn.run(
            self.app(config),
            host=config.host,
            port=config.port,
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=10,
        )

    def _runtime(self, config: AgentConfig) -> Runtime:
        if not self._tools:
            raise ValueError(f"agent {self.name!r} declares no tools")
        card_base: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "tags": list(self.tags),
            "tools": [_tool_card(t) for t in self._tools.values()],
        }
        if self.provider_keys:
            card_base["metadata"] = {"provider_keys": list(self.provider_keys)}
        if len(json.dumps(card_base, ensure_ascii=False).encode()) > MAX_CARD_BYTES:
            raise ValueError(f"the agent card must be at most {MAX_CARD_BYTES} bytes as JSON")
        return Runtime(
            config=config,
            name=self.name,
            version=self.version,
            tools=MappingProxyType(dict(self._tools)),
            card_base=card_base,
            provider_keys=frozenset(self.provider_keys),
        )


def _tool_card(tool: Tool) -> dict[str, Any]:
    card: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "input_schema": tool.input_schema,
    }
    if tool.output_schema is not None:
        card["output_schema"] = tool.output_schema
    return card
