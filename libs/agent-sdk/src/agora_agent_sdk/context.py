"""What one call knows besides its payload."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agora_agent_sdk.errors import ToolError


class Context:
    """The call's ids and the caller's provider keys, which live only as long as this object."""

    __slots__ = ("_provider_keys", "caller_uid", "execution_id")

    def __init__(
        self,
        execution_id: str,
        caller_uid: str | None = None,
        provider_keys: Mapping[str, str] | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.caller_uid = caller_uid
        self._provider_keys = MappingProxyType(dict(provider_keys or {}))

    def provider_key(self, provider: str) -> str:
        """The caller's key for `provider`; a ToolError MISSING_PROVIDER_KEY if none was given."""
        key = self._provider_keys.get(provider)
        if key is None:
            raise ToolError(
                "MISSING_PROVIDER_KEY",
                f"This call carries no key for provider {provider!r}; the agent must declare it "
                "in provider_keys and the caller must have one",
            )
        return key

    def has_provider_key(self, provider: str) -> bool:
        return provider in self._provider_keys

    def __repr__(self) -> str:
        # Never the keys themselves: a repr ends up in logs and tracebacks.
        providers = sorted(self._provider_keys)
        return (
            f"Context(execution_id={self.execution_id!r}, caller_uid={self.caller_uid!r}, "
            f"providers={providers!r})"
        )
