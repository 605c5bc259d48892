"""Agents' call-signing secrets (`agent_secrets/{agent_id}`), sealed like users' API keys.

The executor signs every call to an agent with its secret (HMAC). A deployment works with a
*pending* secret, handed to the agent's runtime; once the deploy succeeded it is *promoted* to
current and the old current becomes *previous*, which the executor still tries while the old
revision drains. A failed deploy promotes nothing, so the running agent keeps working.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from agora_auth.keys.envelope import EnvelopeCipher, SealedSecret, UnreadableSecret, WrappedKey
from agora_auth.keys.repository import SECRET_SLOTS, AgentSecretRepository
from agora_common.errors import Conflict, NotFound

SECRET_BYTES = 32


class AgentSecretNotFound(NotFound):
    code, message = "AGENT_SECRET_NOT_FOUND", "This agent has no signing secret yet"


class NothingToPromote(Conflict):
    code, message = "NO_PENDING_SECRET", "There is no pending secret to promote"


def agent_aad(agent_id: str) -> bytes:
    """Binds a sealed secret to its agent, and apart from any user's API key."""
    return json.dumps(["agora.agent-secret.v1", agent_id], separators=(",", ":")).encode()


def _sealed(slot: dict[str, Any]) -> SealedSecret:
    return SealedSecret(
        bytes(slot["ciphertext"]),
        WrappedKey(bytes(slot["wrapped_key"]), str(slot["key_version"])),
    )


def _slot(sealed: SealedSecret, created_at: Any) -> dict[str, Any]:
    return {
        "ciphertext": sealed.ciphertext,
        "wrapped_key": sealed.wrapped_key.ciphertext,
        "key_version": sealed.wrapped_key.key_version,
        "created_at": created_at,
    }


class AgentSecrets:
    def __init__(self, repository: AgentSecretRepository, cipher: EnvelopeCipher) -> None:
        self._repo = repository
        self._cipher = cipher

    async def issue(self, agent_id: str) -> str:
        """A new pending secret for a deployment (the running agent keeps its current one)."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        sealed = await self._cipher.seal(secret, agent_aad(agent_id))
        document = await self._repo.read(agent_id)
        document["pending"] = _slot(sealed, datetime.now(UTC))
        await self._repo.write(agent_id, document)
        return secret

    async def promote(self, agent_id: str) -> None:
        """The deploy succeeded: pending becomes current, current becomes previous."""
        document = await self._repo.read(agent_id)
        if not document.get("pending"):
            raise NothingToPromote()
        document["previous"] = document.get("current")
        document["current"] = document.pop("pending")
        await self._repo.write(agent_id, document)

    async def reveal(self, agent_id: str) -> tuple[str, str | None]:
        """(current, previous): the executor signs with current and tries previous on a 401."""
        document = await self._repo.read(agent_id)
        if not document.get("current"):
            raise AgentSecretNotFound()
        aad = agent_aad(agent_id)
        current = await self._cipher.open(_sealed(document["current"]), aad)
        previous = None
        if document.get("previous"):
            previous = await self._cipher.open(_sealed(document["previous"]), aad)
        return current, previous

    async def rewrap_all(self) -> tuple[int, int]:
        """Re-wrap every secret's data key under the primary KEK version: (re-wrapped, failed).

        A secret that does not open is left as it is (the next deploy issues a new one).
        """
        primary = await self._cipher.primary_version()
        rewrapped = failed = 0
        async for agent_id, document in self._repo.documents():
            changed = False
            for name in SECRET_SLOTS:
                slot = document.get(name)
                if not slot or slot.get("key_version") == primary:
                    continue
                try:
                    fresh = await self._cipher.rewrap(_sealed(slot), agent_aad(agent_id))
                except UnreadableSecret:
                    failed += 1
                    continue
                document[name] = _slot(fresh, slot.get("created_at"))
                rewrapped += 1
                changed = True
            if changed:
                await self._repo.write(agent_id, document)
        return rewrapped, failed
