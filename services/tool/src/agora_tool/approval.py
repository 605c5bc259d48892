"""An admin approves a submitted tool: the same decision as approving its agent in vetting.

The tool service verified the admin (the gateway's identity headers); vetting's internal
approval route takes that admin's uid and email and runs the one approval it has: the scan must
be clean (or its findings accepted), one audit record, one deploy. Either route gives the same
result, and approving twice has the effect of once. The catalog then syncs the agent at once,
so the answer shows the tool as it is listed now.
"""

from __future__ import annotations

from typing import Any

from agora_common.errors import relayed
from agora_common.iam.client import ServiceClient
from agora_common.models import UserIdentity
from agora_tool.catalog import CatalogService, ToolNotFound, view
from agora_tool.catalog_sync import CatalogSync
from agora_tool.models import Approval, ApproveTool
from agora_tool.records import valid_tool_id
from agora_tool.repository import ToolRepository


class ApprovalService:
    def __init__(
        self,
        repository: ToolRepository,
        services: ServiceClient,
        sync: CatalogSync,
        catalog: CatalogService,
        *,
        timeout_s: float,
    ) -> None:
        self._repo = repository
        self._services = services
        self._sync = sync
        self._catalog = catalog
        self._timeout_s = timeout_s

    async def approve(self, admin: UserIdentity, tool_id: str, body: ApproveTool) -> Approval:
        entry = await self._repo.get(tool_id) if valid_tool_id(tool_id) else None
        if entry is None:
            raise ToolNotFound()
        request: dict[str, Any] = {
            "admin_uid": admin.uid,
            "admin_email": admin.email,
            "accept_findings": body.accept_findings,
        }
        if body.notes is not None:
            request["notes"] = body.notes
        response = await self._services.request(
            "vetting",
            "POST",
            f"/internal/agents/{entry.agent_id}/approve",
            json=request,
            timeout=self._timeout_s,
        )
        if response.status_code != 200:
            raise relayed(response.status_code, response.content)
        await self._sync.sync(entry.agent_id)
        current = await self._repo.get(tool_id)
        assert current is not None
        return Approval(decision=response.json(), tool=view(current, full=True))
