"""An agent's runtime settings; the only place the SDK reads the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_PORT = 8080
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Shorter secrets are treated as absent: the agent then refuses every call.
MIN_SECRET_CHARS = 16

_HASH_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _public_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("AGORA_AGENT_PUBLIC_URL must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError("AGORA_AGENT_PUBLIC_URL must not carry credentials, a query or a fragment")
    if any(ch.isspace() for ch in value):
        raise ValueError("AGORA_AGENT_PUBLIC_URL must not contain spaces")
    return value.rstrip("/")


@dataclass(frozen=True)
class AgentConfig:
    """Where to listen, who the agent is to the platform, and where the public reaches it."""

    port: int = DEFAULT_PORT
    # A container (Cloud Run) must listen on every interface. Outside one, bind loopback: the
    # platform's local runtime always sets AGORA_AGENT_HOST=127.0.0.1; by hand, set it too.
    host: str = "0.0.0.0"  # noqa: S104
    hash_id: str | None = None
    secret: str | None = field(default=None, repr=False)
    public_url: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError("PORT must be 1-65535")
        if self.hash_id is not None and not _HASH_ID.fullmatch(self.hash_id):
            raise ValueError("AGORA_AGENT_HASH_ID must be 1-128 letters, digits, _ or -")
        if self.public_url is not None:
            object.__setattr__(self, "public_url", _public_url(self.public_url))
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")

    def credentials(self) -> tuple[str, str] | None:
        """(hash_id, secret) when both are set; without them every call is refused."""
        if self.hash_id is None or self.secret is None or len(self.secret) < MIN_SECRET_CHARS:
            return None
        return self.hash_id, self.secret

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AgentConfig:
        """PORT and AGORA_AGENT_{HOST,HASH_ID,SECRET,PUBLIC_URL}."""
        env = os.environ if environ is None else environ
        raw_port = env.get("PORT", "").strip()
        if raw_port and not raw_port.isdigit():
            raise ValueError("PORT must be an integer")
        return cls(
            port=int(raw_port) if raw_port else DEFAULT_PORT,
            host=env.get("AGORA_AGENT_HOST") or "0.0.0.0",  # noqa: S104
            hash_id=env.get("AGORA_AGENT_HASH_ID") or None,
            secret=env.get("AGORA_AGENT_SECRET") or None,
            public_url=env.get("AGORA_AGENT_PUBLIC_URL") or None,
        )
