"""Agents' call-signing secrets (`agent_secrets/{agent_id}`), sealed like users' API keys.

The executor signs every call to an agent with its secret (HMAC); the secret is made at each
deployment, handed to the agent's runtime, and kept here encrypted under the same key hierarchy.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from google.cloud import firestore

from agora_auth.keys.envelope import EnvelopeCipher, SealedSecret, UnreadableSecret, WrappedKey
from agora_common.clients import bounded_call
from agora_common.errors import NotFound

AGENT_SECRETS = "agent_secrets"
SECRET_BYTES = 32


class AgentSecretNotFound(NotFound):
    code, message = "AGENT_SECRET_NOT_FOUND", "This agent has no signing secret yet"


def agent_aad(agent_id: str) -> bytes:
    """Binds a sealed secret to its agent, and apart from any user's API key."""
    return json.dumps(["agora.agent-secret.v1", agent_id], separators=(",", ":")).encode()


class AgentSecrets:
    def __init__(
        self, db: firestore.AsyncClient, cipher: EnvelopeCipher, *, timeout_s: float = 2.0
    ) -> None:
        self._secrets = db.collection(AGENT_SECRETS)
        self._cipher = cipher
        self._call = bounded_call(timeout_s)

    async def issue(self, agent_id: str) -> str:
        """A new secret for the agent; the previous one stops verifying at its next deploy."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        sealed = await self._cipher.seal(secret, agent_aad(agent_id))
        document = {
            "agent_id": agent_id,
            "ciphertext": sealed.ciphertext,
            "wrapped_key": sealed.wrapped_key.ciphertext,
            "key_version": sealed.wrapped_key.key_version,
            "created_at": datetime.now(UTC),
        }
        await self._secrets.document(agent_id).set(document, **self._call)
        return secret

    async def reveal(self, agent_id: str) -> str:
        snapshot = await self._secrets.document(agent_id).get(**self._call)
        data = snapshot.to_dict()
        if not data:
            raise AgentSecretNotFound()
        sealed = SealedSecret(
            bytes(data["ciphertext"]),
            WrappedKey(bytes(data["wrapped_key"]), str(data["key_version"])),
        )
        return await self._cipher.open(sealed, agent_aad(agent_id))

    async def rewrap_all(self) -> tuple[int, int]:
        """Re-wrap every secret's data key under the primary KEK version: (re-wrapped, failed).

        A secret that does not open is left as it is (the next deploy issues a new one).
        """
        primary = await self._cipher.primary_version()
        rewrapped = failed = 0
        async for snapshot in self._secrets.stream(**self._call):
            data = snapshot.to_dict() or {}
            if data.get("key_version") == primary:
                continue
            sealed = SealedSecret(
                bytes(data["ciphertext"]),
                WrappedKey(bytes(data["wrapped_key"]), str(data["key_version"])),
            )
            try:
                fresh = await self._cipher.rewrap(sealed, agent_aad(snapshot.id))
            except UnreadableSecret:
                failed += 1
                continue
            await snapshot.reference.update(
                {
                    "wrapped_key": fresh.wrapped_key.ciphertext,
                    "key_version": fresh.wrapped_key.key_version,
                },
                **self._call,
            )
            rewrapped += 1
        return rewrapped, failed
