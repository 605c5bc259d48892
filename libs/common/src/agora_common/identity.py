"""The end user behind a request: asserted by the gateway in headers, trusted from it alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request

from agora_common.errors import Forbidden, Unauthenticated
from agora_common.iam.verifier import ServiceCaller
from agora_common.models.identity import (
    GATEWAY_IDENTITY_HEADERS,
    HEADER_TOKEN_ID,
    HEADER_TOKEN_SCOPE,
    HEADER_TOKEN_SPEND_LIMIT,
    HEADER_USER_ADMIN,
    HEADER_USER_EMAIL,
    HEADER_USER_ID,
    HEADER_USER_ROLE,
    CallerKind,
    TokenScope,
    UserIdentity,
)
from agora_common.settings import ServiceSettings, service_account_email

_LOWER_HEADERS = tuple(name.lower() for name in GATEWAY_IDENTITY_HEADERS)


def identity_headers(user: UserIdentity) -> dict[str, str]:
    """The headers the gateway sets from a verified token (none for an anonymous caller)."""
    if user.is_anonymous or user.uid is None:
        return {}
    headers = {
        HEADER_USER_ID: user.uid,
        HEADER_USER_ADMIN: "true" if user.admin else "false",
        HEADER_USER_ROLE: user.kind.value,
    }
    if user.email:
        headers[HEADER_USER_EMAIL] = user.email
    if user.token_id is not None:
        headers[HEADER_TOKEN_ID] = user.token_id
        headers[HEADER_TOKEN_SCOPE] = (user.token_scope or TokenScope.READ).value
        if user.token_spend_limit_usd is not None:
            headers[HEADER_TOKEN_SPEND_LIMIT] = repr(user.token_spend_limit_usd)
    return headers


async def end_user(request: Request, caller: ServiceCaller) -> UserIdentity:
    """The user the gateway vouches for; anonymous when it sends none.

    The service's `identity_forwarders` may pass on a user the gateway verified for them.
    Identity headers from any other caller are refused outright rather than ignored, so a
    misrouted or compromised service cannot act as a user.
    """
    settings: ServiceSettings = request.app.state.settings
    headers = request.headers
    asserted = any(name in headers for name in _LOWER_HEADERS)
    vouching = ("gateway", *settings.identity_forwarders)
    if caller.email not in {service_account_email(n, settings.project_id) for n in vouching}:
        if asserted:
            raise Forbidden(
                "Only the gateway may assert a user identity", code="IDENTITY_NOT_ALLOWED"
            )
        return UserIdentity()
    uid = headers.get(HEADER_USER_ID)
    if not uid:
        return UserIdentity()
    role = headers.get(HEADER_USER_ROLE, CallerKind.USER.value)
    kind = CallerKind.AGENT if role == CallerKind.AGENT.value else CallerKind.USER
    token_id = headers.get(HEADER_TOKEN_ID) or None
    return UserIdentity(
        kind=kind,
        uid=uid,
        email=headers.get(HEADER_USER_EMAIL) or None,
        # A personal token never carries the admin role, whatever else is asserted.
        admin=token_id is None and headers.get(HEADER_USER_ADMIN) == "true",
        **_token_fields(token_id, headers),
    )


def _token_fields(token_id: str | None, headers: Mapping[str, str]) -> dict[str, Any]:
    """The personal token's fields; an unknown scope counts as the narrowest one."""
    if token_id is None:
        return {}
    scope = headers.get(HEADER_TOKEN_SCOPE)
    limit = headers.get(HEADER_TOKEN_SPEND_LIMIT)
    return {
        "token_id": token_id,
        "token_scope": TokenScope.EXECUTE if scope == TokenScope.EXECUTE.value else TokenScope.READ,
        "token_spend_limit_usd": float(limit) if limit else None,
    }


async def signed_in_user(user: Annotated[UserIdentity, Depends(end_user)]) -> UserIdentity:
    """A signed-in user or agent; anonymous callers get 401."""
    if user.is_anonymous:
        raise Unauthenticated("Sign in to use this route")
    return user


async def human_user(user: Annotated[UserIdentity, Depends(signed_in_user)]) -> UserIdentity:
    """A signed-in person: callers signed in as an agent get 403 USER_REQUIRED."""
    if user.kind is not CallerKind.USER or user.uid is None:
        raise Forbidden("Only a signed-in user (not an agent) can do this", code="USER_REQUIRED")
    return user


EndUser = Annotated[UserIdentity, Depends(end_user)]
SignedInUser = Annotated[UserIdentity, Depends(signed_in_user)]
HumanUser = Annotated[UserIdentity, Depends(human_user)]


async def admin_user(user: Annotated[UserIdentity, Depends(signed_in_user)]) -> UserIdentity:
    """A signed-in admin (custom claim `admin: true`); anyone else signed in gets 403."""
    if not user.admin or user.kind is not CallerKind.USER:
        raise Forbidden("This route is for admins", code="ADMIN_REQUIRED")
    return user


AdminUser = Annotated[UserIdentity, Depends(admin_user)]


def services_only(*names: str) -> Callable[..., Awaitable[str]]:
    """A dependency admitting only the named services (by identity); it yields the name.

    The service-wide allowlist decides who may call a service at all; this narrows one route.
    """

    async def calling_service(request: Request, caller: ServiceCaller) -> str:
        settings: ServiceSettings = request.app.state.settings
        for name in names:
            if caller.email == service_account_email(name, settings.project_id):
                return name
        raise Forbidden(
            f"Only the {' or '.join(names)} service may call this route",
            code="CALLER_NOT_ALLOWED",
        )

    return calling_service
