"""Tokens: what an ID token says, and custom tokens for agents."""

from __future__ import annotations

from fastapi import APIRouter

from agora_auth.models import AgentToken, AgentTokenRequest, TokenInfo, TokenToVerify
from agora_auth.routes.deps import AgentTokens, Tokens
from agora_common.identity import SignedInUser

router = APIRouter(prefix="/token", tags=["tokens"])


@router.post("/verify", response_model=TokenInfo, summary="What a Firebase ID token says")
async def verify(body: TokenToVerify, _: SignedInUser, tokens: Tokens) -> TokenInfo:
    """Signature, expiry, audience and issuer, and revocation or a disabled account (401)."""
    verified = await tokens.verify(body.id_token, check_revoked=True)
    identity = verified.identity()
    return TokenInfo(
        uid=verified.uid,
        email=verified.email,
        admin=verified.admin,
        role=identity.kind.value,
        claims=verified.claims,
    )


@router.post(
    "/custom",
    response_model=AgentToken,
    summary="A custom token for an active agent (its owner only)",
)
async def custom(body: AgentTokenRequest, user: SignedInUser, agents: AgentTokens) -> AgentToken:
    """The agent exchanges it with `signInWithCustomToken` and calls the gateway as itself."""
    return await agents.issue(user, body.agent_id)
