"""What the registry's routes are handed: its services, built once on the lifespan's clients."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from agora_common.answer_cache import AnswerCache
from agora_common.app import Resources
from agora_common.signing.settings import open_card_signer
from agora_registry.a2a_cards import A2ACards
from agora_registry.notices import PeerNotices
from agora_registry.repository import AgentRepository
from agora_registry.search import SearchService
from agora_registry.service import RegistryService
from agora_registry.settings import RegistrySettings


@dataclass(frozen=True)
class RegistryContainer:
    registry: RegistryService
    search: SearchService
    cards: A2ACards


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
    signer = await stack.enter_async_context(open_card_signer(settings))
    registry = RegistryService(repository, cache, settings, notices)
    return RegistryContainer(
        registry=registry,
        search=SearchService(repository, cache),
        cards=A2ACards(registry, signer, settings),
    )
