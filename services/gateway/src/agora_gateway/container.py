"""What the gateway's proxy and routes are handed, built once on the lifespan's clients."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from agora_common.app import Resources
from agora_common.clients import make_transport
from agora_common.firebase import token_verifier_for
from agora_common.signing import CardSigner
from agora_common.signing.settings import open_card_signer
from agora_gateway.openapi import OpenApiComposer
from agora_gateway.personal_tokens import PersonalTokens
from agora_gateway.proxy import Proxy
from agora_gateway.ratelimit import RateLimiter
from agora_gateway.security import RefusalWatch
from agora_gateway.settings import GatewaySettings


@dataclass(frozen=True)
class GatewayContainer:
    proxy: Proxy
    openapi: OpenApiComposer
    # Publishes the platform's public keys (the registry signs with the same key).
    signer: CardSigner


async def build(
    settings: GatewaySettings, resources: Resources, stack: AsyncExitStack
) -> GatewayContainer:
    assert resources.redis is not None
    transport = make_transport(settings)
    stack.push_async_callback(transport.aclose)
    tokens = token_verifier_for(
        settings, resources.http, revocation_ttl_s=settings.revocation_ttl_s
    )
    stack.callback(tokens.close)
    refusals = RefusalWatch(
        resources.redis,
        resources.services,
        threshold=settings.refusal_burst_threshold,
        window_s=settings.refusal_burst_window_s,
    )
    stack.push_async_callback(refusals.aclose)
    proxy = Proxy(
        settings,
        transport,
        resources.services.auth,
        tokens,
        RateLimiter(resources.redis, timeout_s=settings.dependency_timeout_s),
        refusals=refusals,
        personal_tokens=PersonalTokens(resources.services, tokens, ttl_s=settings.revocation_ttl_s),
    )
    signer = await stack.enter_async_context(open_card_signer(settings))
    return GatewayContainer(proxy=proxy, openapi=OpenApiComposer(resources.services), signer=signer)
