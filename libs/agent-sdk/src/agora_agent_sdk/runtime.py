"""What a running agent app holds: its settings, tools, card and replay guard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from agora_agent_sdk.config import AgentConfig
from agora_agent_sdk.replay import ReplayGuard
from agora_agent_sdk.tools import Tool


@dataclass
class Runtime:
    config: AgentConfig
    name: str
    version: str
    tools: Mapping[str, Tool]
    # The card without its deployment, which depends on the request when no public URL is set.
    card_base: Mapping[str, Any]
    provider_keys: frozenset[str]
    replay: ReplayGuard = field(default_factory=ReplayGuard)

    def card(self, url: str) -> dict[str, Any]:
        return {**self.card_base, "deployment": {"url": url}}


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
