"""What the registry's routes are handed: its services, built once on the lifespan's clients."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from agora_common.answer_cache import AnswerCache
from agora_common.app import Resources
from agora_registry.notices import PeerNotices
from agora_registry.repository import AgentRepository
from agora_registry.search import SearchService
from agora_registry.service import RegistryService
from agora_registry.settings import RegistrySettings


@dataclass(frozen=True)
class RegistryContainer:
    registry: RegistryService
    search: SearchService


async def build(
    settings: RegistrySettings, resources: Resources, stack: AsyncExitStack
) -> RegistryContainer:
    assert resources.firestore is not None
    repository = AgentRepository(resources.firestore, timeout_s=settings.dependency_timeout_s)
    cache = AnswerCache(
        resources.redis, settings.search_cache_ttl_s, settings.project_id, name="registry_search"
    )
    notices = PeerNotices(resources.services)
    stack.push_async_callback(notices.aclose)
    return RegistryContainer(
        registry=RegistryService(repository, cache, settings, notices),
        search=SearchService(repository, cache),
    )
