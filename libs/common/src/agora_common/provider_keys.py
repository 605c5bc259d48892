"""Users' own provider keys, read from the auth service for one use and never kept.

The executor hands a key to an agent's call; the tool service to the Tool Factory's `llm` kind,
which asks the user's provider to write a tool. Auth admits only the services it lists in
`provider_key_services` to this route.
"""

from __future__ import annotations

from urllib.parse import quote

from agora_common.errors import BadGateway, NotFound
from agora_common.iam.client import ServiceClient
from agora_common.models import KeyProvider


class MissingProviderKey(NotFound):
    code = "PROVIDER_KEY_MISSING"


async def provider_key(services: ServiceClient, uid: str, provider: str, *, why: str) -> str:
    """`uid`'s own key for `provider`; 404 PROVIDER_KEY_MISSING, saying `why`, when none."""
    provider = KeyProvider(provider).value  # callers checked it; never trust it blindly
    path = f"/internal/api-keys/{quote(uid, safe='')}/{provider}"
    response = await services.request("auth", "GET", path)
    if response.status_code == 404:
        raise MissingProviderKey(
            f"{why} needs your {provider} API key; add it with PATCH /auth/user/api-keys"
        )
    if response.status_code != 200:
        raise BadGateway("Your provider key is unavailable right now")
    return str(response.json()["api_key"])
