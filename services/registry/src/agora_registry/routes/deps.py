"""FastAPI dependencies shared by the registry's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora_common.app import from_state
from agora_common.identity import services_only
from agora_registry.search import SearchService
from agora_registry.service import RegistryService
from agora_registry.settings import RegistrySettings

Registry = Annotated[RegistryService, Depends(from_state("registry"))]
Search = Annotated[SearchService, Depends(from_state("search"))]
# The calling service's name, when it is one that may do this.
StatusChanger = Annotated[str, Depends(services_only(*RegistrySettings.status_change_services))]
AgentReader = Annotated[str, Depends(services_only(*RegistrySettings.agent_reader_services))]
