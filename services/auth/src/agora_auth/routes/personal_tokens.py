"""The caller's personal API tokens, and their check for the gateway."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from agora_auth.container import AuthContainer
from agora_auth.personal_tokens.models import (
    CreatedToken,
    TokenGrant,
    TokenList,
    TokenRequest,
    TokenToCheck,
)
from agora_auth.personal_tokens.service import PersonalTokenService
from agora_common.app import provide
from agora_common.errors import Forbidden
from agora_common.identity import HumanUser, services_only
from agora_common.models import UserIdentity

router = APIRouter(tags=["personal-tokens"])
NO_STORE = {"Cache-Control": "no-store"}


async def _signed_in_person(user: HumanUser) -> UserIdentity:
    """A person signed in as themselves: agents get 403 USER_REQUIRED and a personal token
    403 PERSONAL_TOKEN_NOT_ALLOWED (a token cannot mint, list or revoke tokens)."""
    if user.via_personal_token:
        raise Forbidden(
            "Personal API tokens cannot manage tokens; sign in", code="PERSONAL_TOKEN_NOT_ALLOWED"
        )
    return user


Person = Annotated[UserIdentity, Depends(_signed_in_person)]
Tokens = Annotated[
    PersonalTokenService, Depends(provide(AuthContainer, lambda c: c.personal_tokens))
]
Gateway = Annotated[str, Depends(services_only("gateway"))]
TokenId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.post(
    "/tokens",
    status_code=201,
    response_model=CreatedToken,
    summary="A new personal API token for the caller (the token is shown this once)",
)
async def create_token(
    body: TokenRequest, user: Person, tokens: Tokens, response: Response
) -> CreatedToken:
    response.headers.update(NO_STORE)
    return await tokens.create(user, body)


@router.get("/tokens", response_model=TokenList, summary="The caller's live personal tokens")
async def list_tokens(user: Person, tokens: Tokens, response: Response) -> TokenList:
    assert user.uid is not None
    response.headers.update(NO_STORE)
    return TokenList(tokens=await tokens.list(user.uid))


@router.delete(
    "/tokens/{token_id}", status_code=204, summary="Revoke one of the caller's personal tokens"
)
async def revoke_token(token_id: TokenId, user: Person, tokens: Tokens) -> Response:
    await tokens.revoke(user, token_id)
    return Response(status_code=204)


@router.post(
    "/internal/tokens/verify",
    tags=["internal"],
    response_model=TokenGrant,
    summary="Who a personal token speaks for (the gateway's identity only)",
)
async def verify_token(
    body: TokenToCheck, _gateway: Gateway, tokens: Tokens, response: Response
) -> TokenGrant:
    response.headers.update(NO_STORE)
    return await tokens.check(body.token)
