"""FastAPI dependencies shared by the registry's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agora_common.errors import Forbidden
from agora_common.iam.verifier import ServiceCaller
from agora_common.settings import service_account_email
from agora_registry.search import SearchService
from agora_registry.service import RegistryService
from agora_registry.settings import RegistrySettings


def _registry(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.registry
    return service


def _search(request: Request) -> SearchService:
    service: SearchService = request.app.state.search
    return service


async def _status_changer(request: Request, caller: ServiceCaller) -> str:
    """The name of the calling service, when it is one that may change an agent's status."""
    settings: RegistrySettings = request.app.state.settings
    for name in settings.status_change_services:
        if caller.email == service_account_email(name, settings.project_id):
            return name
    raise Forbidden(
        "Only the vetting and executor services may change an agent's status",
        code="CALLER_NOT_ALLOWED",
    )


Registry = Annotated[RegistryService, Depends(_registry)]
Search = Annotated[SearchService, Depends(_search)]
StatusChanger = Annotated[str, Depends(_status_changer)]
