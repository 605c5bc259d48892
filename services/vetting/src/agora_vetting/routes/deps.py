"""FastAPI dependencies shared by the vetting routes."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from agora_common.app import provide
from agora_common.errors import Forbidden
from agora_common.iam.verifier import service_caller
from agora_common.identity import services_only
from agora_common.settings import service_account_email
from agora_vetting.container import VettingContainer
from agora_vetting.owner_webhooks import OwnerWebhooks
from agora_vetting.package_checks import PackageChecker
from agora_vetting.service import VettingService
from agora_vetting.settings import VettingSettings
from agora_vetting.tasks import TASK_CREDENTIAL_HEADER

Vetting = Annotated[VettingService, Depends(provide(VettingContainer, lambda c: c.vetting))]
OwnerHooks = Annotated[
    OwnerWebhooks, Depends(provide(VettingContainer, lambda c: c.owner_webhooks))
]
PackageChecks = Annotated[
    PackageChecker, Depends(provide(VettingContainer, lambda c: c.package_checks))
]
Submitter = Annotated[str, Depends(services_only(*VettingSettings.submission_services))]
Approver = Annotated[str, Depends(services_only(*VettingSettings.approval_services))]
PackageCaller = Annotated[str, Depends(services_only(*VettingSettings.package_check_services))]


async def cloud_tasks(request: Request) -> str:
    """Cloud Tasks' identity only: its OIDC token for the tasks invoker account; locally, the
    credential the task carries in its own headers (the emulator sends no token)."""
    settings: VettingSettings = request.app.state.settings
    presented = request.headers.get(TASK_CREDENTIAL_HEADER)
    expected = settings.local_task_credential
    if presented is not None and expected is not None:
        if hmac.compare_digest(presented.encode(), expected.get_secret_value().encode()):
            return "cloud-tasks (local credential)"
        raise Forbidden("Not a Cloud Tasks delivery", code="TASK_CREDENTIAL_INVALID")
    caller = await service_caller(request)
    invoker = service_account_email(settings.tasks_invoker_name, settings.project_id)
    if caller.email != invoker:
        raise Forbidden("Only Cloud Tasks may deliver scan tasks", code="CALLER_NOT_ALLOWED")
    return "cloud-tasks"


CloudTasks = Annotated[str, Depends(cloud_tasks)]
