"""FastAPI dependencies shared by the tool service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora_common.app import provide
from agora_common.identity import services_only
from agora_tool.approval import ApprovalService
from agora_tool.catalog import CatalogService
from agora_tool.catalog_sync import CatalogSync
from agora_tool.container import ToolContainer
from agora_tool.factory_service import FactoryService
from agora_tool.mcp_server import McpEndpoint
from agora_tool.settings import ToolSettings
from agora_tool.submissions import SubmissionService

Catalog = Annotated[CatalogService, Depends(provide(ToolContainer, lambda c: c.catalog))]
Submissions = Annotated[SubmissionService, Depends(provide(ToolContainer, lambda c: c.submissions))]
Approvals = Annotated[ApprovalService, Depends(provide(ToolContainer, lambda c: c.approvals))]
Factory = Annotated[FactoryService, Depends(provide(ToolContainer, lambda c: c.factory))]
Mcp = Annotated[McpEndpoint, Depends(provide(ToolContainer, lambda c: c.mcp))]
Sync = Annotated[CatalogSync, Depends(provide(ToolContainer, lambda c: c.sync))]
SyncNotifier = Annotated[str, Depends(services_only(*ToolSettings.sync_services))]
Reconciler = Annotated[str, Depends(services_only(*ToolSettings.reconcile_services))]
