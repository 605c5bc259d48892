"""FastAPI dependencies shared by the registry's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agora_common.identity import services_only
from agora_registry.search import SearchService
from agora_registry.service import RegistryService
from agora_registry.settings import RegistrySettings


def _registry(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.registry
    return service


def _search(request: Request) -> SearchService:
    service: SearchService = request.app.state.search
    return service


Registry = Annotated[RegistryService, Depends(_registry)]
Search = Annotated[SearchService, Depends(_search)]
# The calling service's name, when it is one that may do this.
StatusChanger = Annotated[str, Depends(services_only(*RegistrySettings.status_change_services))]
AgentReader = Annotated[str, Depends(services_only(*RegistrySettings.agent_reader_services))]
