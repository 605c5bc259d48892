"""What every agent runtime offers: deploy an agent's service (at once, or staged), undeploy it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from agora_common.errors import BadGateway

SERVICE_PREFIX = "agent-"
# Cloud Run service ids: lowercase letters, digits and hyphens, a letter first, at most 49 chars.
MAX_SERVICE_NAME = 49
_DIGEST_CHARS = 10
_MAX_SLUG = MAX_SERVICE_NAME - len(SERVICE_PREFIX) - 1 - _DIGEST_CHARS
_NOT_NAME = re.compile(r"[^a-z0-9]+")
# Shorter values are not secrets worth hiding, and scrubbing them would mangle every message.
_MIN_SECRET_CHARS = 4
REDACTED = "[redacted]"


class DeployFailed(BadGateway):
    """An agent could not be deployed or undeployed; the message never carries its env."""

    code, message = "DEPLOY_FAILED", "The agent could not be deployed"


@dataclass(frozen=True)
class DeploySpec:
    """What to deploy: `image` for Cloud Run, `source` (a local path) for the local runtime."""

    agent_id: str
    hash_id: str
    image: str | None = None
    source: str | None = None
    # repr=False: a logged or printed spec must not show the agent's secret.
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))


@dataclass(frozen=True)
class Deployment:
    """Where a deployed agent answers."""

    agent_id: str
    url: str
    runtime: str
    revision: str | None = None


class AgentRuntime(Protocol):
    """Runs agents' services; the executor's deploy route holds one of these."""

    async def deploy(self, spec: DeploySpec) -> Deployment:
        """Create or update the agent's service and wait until it answers; idempotent."""
        ...

    async def stage(self, spec: DeploySpec) -> Deployment:
        """Start a new revision and wait until it answers; what the agent serves is unchanged
        until `commit` where the runtime can keep the previous revision beside it."""
        ...

    async def commit(self, agent_id: str, hash_id: str) -> None:
        """The staged revision replaces the previous one; nothing staged is fine."""
        ...

    async def discard(self, agent_id: str, hash_id: str) -> None:
        """Stop the staged revision only, where the previous one can keep serving."""
        ...

    async def undeploy(self, agent_id: str, hash_id: str) -> None:
        """Remove the agent's service; a missing one is not an error."""
        ...

    async def aclose(self) -> None:
        """Release what the runtime holds (the local runtime stops its agents)."""
        ...


def agent_key(hash_id: str) -> str:
    """A stable DNS-label form of a hash id: its lowercase slug plus a digest of the exact id.

    The digest keeps ids that differ only in case or punctuation (base64url ids do) apart.
    """
    if not hash_id:
        raise DeployFailed("The agent has no hash id")
    digest = hashlib.sha256(hash_id.encode()).hexdigest()[:_DIGEST_CHARS]
    slug = _NOT_NAME.sub("-", hash_id.lower()).strip("-")[:_MAX_SLUG].rstrip("-")
    return f"{slug}-{digest}" if slug else digest


def service_name(hash_id: str) -> str:
    """The agent's service name, `agent-<key>`: a valid Cloud Run service id."""
    return SERVICE_PREFIX + agent_key(hash_id)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced, longest first (so no fragment survives)."""
    hidden = {secret for secret in secrets if len(secret) >= _MIN_SECRET_CHARS}
    for secret in sorted(hidden, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
