"""Who is calling: a Firebase ID token (a user or an agent), a personal API token, or nobody;
and, on the MCP endpoint, a browser's Origin. The answer carries the key its rate limit counts
under."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.types import Scope

from agora_common.errors import Forbidden, Unauthenticated
from agora_common.firebase import FirebaseTokenVerifier
from agora_common.models.identity import CallerKind, UserIdentity
from agora_gateway.personal_tokens import TOKEN_PREFIX, PersonalTokens, check_scope
from agora_gateway.resource_metadata import challenge, origin_allowed, public_origin
from agora_gateway.routing import SAFE_METHODS, Match
from agora_gateway.settings import GatewaySettings
from agora_gateway.streams import header


@dataclass(frozen=True, slots=True)
class VerifiedCaller:
    """Who is calling, as the gateway verified it, and the key their rate limit counts under."""

    user: UserIdentity
    rate_key: str


class Callers:
    def __init__(
        self,
        settings: GatewaySettings,
        tokens: FirebaseTokenVerifier,
        personal_tokens: PersonalTokens | None = None,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.personal_tokens = personal_tokens

    async def identify(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], found: Match, method: str
    ) -> VerifiedCaller:
        if found.route.mcp:
            return await self._for_mcp(scope, headers, found, method)
        return await self._by_token(scope, headers, found, method)

    async def _by_token(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], found: Match, method: str
    ) -> VerifiedCaller:
        authorization = header(headers, b"authorization")
        if authorization is None:
            if not found.route.anonymous:
                raise Unauthenticated("Sign in to use this route")
            return VerifiedCaller(
                UserIdentity(), f"ip:{rate_key_for_ip(self.client_ip(scope, headers))}"
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated(
                "Authorization must be a Bearer Firebase ID token or personal API token"
            )
        if token.startswith(TOKEN_PREFIX):
            return await self._personal(token, found, method)
        verified = await self.tokens.verify(token)
        if method not in SAFE_METHODS or verified.admin:
            # Writes, and everything an admin does: a revoked admin must not keep reading
            # admin views until the old token expires.
            await self.tokens.ensure_not_revoked(verified)
        user = verified.identity()
        if user.kind is CallerKind.AGENT and not found.route.agents:
            raise Forbidden("Agents cannot use this route", code="AGENT_NOT_ALLOWED")
        return VerifiedCaller(user, f"uid:{verified.uid}")

    async def _personal(self, token: str, found: Match, method: str) -> VerifiedCaller:
        """A personal API token: its owner, limited to what its scope allows (403 beyond)."""
        if self.personal_tokens is None:
            raise Unauthenticated("Personal API tokens are not accepted here", code="INVALID_TOKEN")
        user = await self.personal_tokens.identify(token)
        check_scope(user, found, method)
        # The owner's own limits: a user's tokens share them rather than multiply them.
        return VerifiedCaller(user, f"uid:{user.uid}")

    async def _for_mcp(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], found: Match, method: str
    ) -> VerifiedCaller:
        """The MCP endpoint: a browser's Origin must be ours, and a 401 says where to sign in."""
        if not origin_allowed(self.settings, headers):
            raise Forbidden("This Origin may not call the MCP endpoint", code="ORIGIN_NOT_ALLOWED")
        try:
            return await self._by_token(scope, headers, found, method)
        except Unauthenticated as error:
            pointer = challenge(public_origin(self.settings, scope))
            error.headers = {**(error.headers or {}), "WWW-Authenticate": pointer}
            raise

    def client_ip(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> str:
        """The address the trusted proxies saw; never a client-chosen X-Forwarded-For entry."""
        hops = self.settings.trusted_proxy_hops
        forwarded = header(headers, b"x-forwarded-for")
        if hops and forwarded:
            entries = [e.strip() for e in forwarded.split(",") if e.strip()]
            if len(entries) >= hops:
                return entries[-hops]
        client = scope.get("client")
        return str(client[0]) if client else "unknown"


def rate_key_for_ip(ip: str) -> str:
    """IPv6 callers are limited per /64: one host usually holds the whole prefix."""
    if ":" not in ip:
        return ip
    try:
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    except ValueError:
        return ip
