"""The caller's provider API keys (masked), and the decrypted key for the executor only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Response

from agora_auth.container import AuthContainer
from agora_auth.keys.providers import ApiKeyValue, Provider
from agora_auth.keys.service import ApiKeyService
from agora_auth.keys.views import MaskedKeys, RevealedKey
from agora_auth.settings import AuthSettings
from agora_common.app import provide
from agora_common.identity import HumanUser, services_only

router = APIRouter(tags=["api-keys"])
NO_STORE = {"Cache-Control": "no-store"}


async def _human_uid(user: HumanUser) -> str:
    """API keys belong to signed-in people; agents are refused (403 USER_REQUIRED)."""
    assert user.uid is not None
    return user.uid


ApiKeys = Annotated[ApiKeyService, Depends(provide(AuthContainer, lambda c: c.api_keys))]
HumanUid = Annotated[str, Depends(_human_uid)]
KeyReader = Annotated[str, Depends(services_only(*AuthSettings.provider_key_services))]
KeyChanges = Annotated[
    dict[Provider, ApiKeyValue | None],
    Body(
        min_length=1,
        description="provider -> key to set, or null to delete that provider's key",
        examples=[{"openai": "sk-proj-0123456789abcdef", "groq": None}],
    ),
]


@router.get(
    "/user/api-keys",
    response_model=MaskedKeys,
    summary="The caller's keys, masked: provider, last four characters, updated_at",
)
async def list_api_keys(uid: HumanUid, keys: ApiKeys, response: Response) -> MaskedKeys:
    response.headers.update(NO_STORE)
    return MaskedKeys(keys=await keys.masked(uid))


@router.patch(
    "/user/api-keys",
    response_model=MaskedKeys,
    summary="Set (or, with null, delete) the caller's keys by provider; answers them masked",
)
async def update_api_keys(
    changes: KeyChanges, uid: HumanUid, keys: ApiKeys, response: Response
) -> MaskedKeys:
    plain = {p: v.get_secret_value() if v is not None else None for p, v in changes.items()}
    response.headers.update(NO_STORE)
    return MaskedKeys(keys=await keys.update(uid, plain))


@router.delete(
    "/user/api-keys/{provider}",
    status_code=204,
    summary="Delete the caller's key for one provider",
)
async def delete_api_key(provider: Provider, uid: HumanUid, keys: ApiKeys) -> Response:
    await keys.delete(uid, provider)
    return Response(status_code=204)


@router.get(
    "/internal/api-keys/{uid}/{provider}",
    tags=["internal"],
    response_model=RevealedKey,
    summary="A user's decrypted key (the executor's identity only)",
)
async def reveal_api_key(
    uid: Annotated[str, Path(min_length=1, max_length=128)],
    provider: Provider,
    _reader: KeyReader,
    keys: ApiKeys,
    response: Response,
) -> RevealedKey:
    response.headers.update(NO_STORE)
    return RevealedKey(uid=uid, provider=provider, api_key=await keys.reveal(uid, provider))
