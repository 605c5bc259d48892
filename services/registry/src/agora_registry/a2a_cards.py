"""A2A cards: an agent's card exported as a platform-signed A2A AgentCard, and the import of an
A2A card, whose signatures are checked against the platform's own keys and recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from agora_common.errors import ServiceUnavailable, ValidationFailed
from agora_common.models import AgentStatus, AgentView, UserIdentity, card_from_a2a, card_to_a2a
from agora_common.signing import CardSigner
from agora_common.signing.cards import check_card_signatures, sign_card
from agora_registry.card_rules import BODY, json_path
from agora_registry.service import RegistryService
from agora_registry.settings import RegistrySettings

EXECUTE_PATH = "/api/v1/agents/execute"
# Where an error in the mapped card sits in the A2A card the caller sent.
_A2A_FIELDS = {"tools": "skills", "deployment": "url", "documentation_url": "documentationUrl"}


class PublicUrlUnconfigured(ServiceUnavailable):
    code = "PUBLIC_URL_UNCONFIGURED"
    message = "The platform's public URL is not configured"


@dataclass(frozen=True)
class ExportedCard:
    card: dict[str, Any]
    # How long shared caches may keep it; None: private, not to be stored.
    public_max_age_s: int | None


class A2ACards:
    def __init__(
        self, registry: RegistryService, signer: CardSigner, settings: RegistrySettings
    ) -> None:
        self._registry = registry
        self._signer = signer
        self._settings = settings

    async def export(self, user: UserIdentity, agent_id: str) -> ExportedCard:
        """Visible as GET /{id} is; an active agent's card is signed by the platform, another
        (which only its owner and admins see) is not: the platform vouches for active ones only."""
        record = await self._registry.visible_record(user, agent_id)
        if self._settings.public_api_url is None:
            raise PublicUrlUnconfigured()
        execute_url = f"{str(self._settings.public_api_url).rstrip('/')}{EXECUTE_PATH}"
        card = card_to_a2a(record.card, agent_id=record.id, execute_url=execute_url)
        if record.status is not AgentStatus.ACTIVE:
            return ExportedCard(card, None)
        signed = await sign_card(self._signer, card)
        return ExportedCard(signed, self._settings.manifest_max_age_s)

    async def register(
        self, user: UserIdentity, a2a: Mapping[str, Any], idempotency_key: str | None
    ) -> tuple[AgentView, bool]:
        """Register an A2A card as a new agent; its signatures' check goes on the record."""
        signatures = check_card_signatures(a2a, await self._signer.public_jwks())
        try:
            card = card_from_a2a(a2a)
        except ValidationError as exc:
            raise ValidationFailed(
                details=[
                    {"path": json_path(BODY, _a2a_loc(err["loc"])), "message": err["msg"]}
                    for err in exc.errors()
                ]
            ) from None
        return await self._registry.register(
            user, card, idempotency_key, card_signatures=signatures
        )


def _a2a_loc(loc: Sequence[int | str]) -> list[int | str]:
    if not loc or not isinstance(loc[0], str) or loc[0] not in _A2A_FIELDS:
        return list(loc)
    head = _A2A_FIELDS[loc[0]]
    return [head] if head == "url" else [head, *loc[1:]]
