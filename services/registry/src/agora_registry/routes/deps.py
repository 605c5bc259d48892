"""FastAPI dependencies shared by the registry's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora_common.app import provide
from agora_common.identity import services_only
from agora_registry.a2a_cards import A2ACards
from agora_registry.container import RegistryContainer
from agora_registry.search import SearchService
from agora_registry.service import RegistryService
from agora_registry.settings import RegistrySettings

Registry = Annotated[RegistryService, Depends(provide(RegistryContainer, lambda c: c.registry))]
Cards = Annotated[A2ACards, Depends(provide(RegistryContainer, lambda c: c.cards))]
Search = Annotated[SearchService, Depends(provide(RegistryContainer, lambda c: c.search))]
# The calling service's name, when it is one that may do this.
StatusChanger = Annotated[str, Depends(services_only(*RegistrySettings.status_change_services))]
AgentReader = Annotated[str, Depends(services_only(*RegistrySettings.agent_reader_services))]
Registrar = Annotated[str, Depends(services_only(*RegistrySettings.registration_services))]
