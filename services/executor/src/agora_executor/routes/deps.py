"""FastAPI dependencies shared by the executor's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agora_common.app import container_of, provide
from agora_common.errors import Forbidden
from agora_common.iam.verifier import ServiceCaller
from agora_common.identity import EndUser, SignedInUser
from agora_common.models import CallerKind, UserIdentity
from agora_common.settings import service_account_email
from agora_executor.container import ExecutorContainer
from agora_executor.deploy import DeployService
from agora_executor.health import HealthProbe
from agora_executor.service import ExecutionService, agent_hash_of
from agora_executor.settings import ExecutorSettings


async def _deployer(
    request: Request, caller: ServiceCaller, user: EndUser
) -> tuple[str, str | None]:
    """The vetting service, or an admin through the gateway: (who, the admin's uid)."""
    settings: ExecutorSettings = request.app.state.settings
    for name in settings.deploy_services:
        if caller.email == service_account_email(name, settings.project_id):
            return name, None
    if not user.is_anonymous and user.admin and user.kind is CallerKind.USER:
        return "admin", user.uid
    raise Forbidden(
        "Only the vetting service and admins may deploy agents", code="DEPLOY_NOT_ALLOWED"
    )


async def checked_agent_claim(request: Request, user: SignedInUser) -> UserIdentity:
    """A caller presenting `X-Agent-Auth` must be that agent; a wrong claim is 403 and recorded."""
    claimed = request.headers.get("x-agent-auth")
    if claimed is None:
        return user
    hash_id = agent_hash_of(user)
    if hash_id is None or claimed != f"agent_{hash_id}":
        security = container_of(request.app, ExecutorContainer).security
        await security.agent_auth_failed(user, claimed, request.url.path)
        raise Forbidden("X-Agent-Auth does not match the calling agent", code="AGENT_AUTH_FAILED")
    return user


Executions = Annotated[
    ExecutionService, Depends(provide(ExecutorContainer, lambda c: c.executions))
]
Deployments = Annotated[DeployService, Depends(provide(ExecutorContainer, lambda c: c.deployments))]
Health = Annotated[HealthProbe, Depends(provide(ExecutorContainer, lambda c: c.health))]
Deployer = Annotated[tuple[str, str | None], Depends(_deployer)]
# A signed-in user or agent, whose `X-Agent-Auth` claim (if any) has been checked.
ExecutingUser = Annotated[UserIdentity, Depends(checked_agent_claim)]
