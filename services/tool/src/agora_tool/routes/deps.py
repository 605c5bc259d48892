"""FastAPI dependencies shared by the tool service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora_common.app import provide
from agora_common.identity import services_only
from agora_tool.catalog import CatalogService
from agora_tool.catalog_sync import CatalogSync
from agora_tool.container import ToolContainer
from agora_tool.settings import ToolSettings

Catalog = Annotated[CatalogService, Depends(provide(ToolContainer, lambda c: c.catalog))]
Sync = Annotated[CatalogSync, Depends(provide(ToolContainer, lambda c: c.sync))]
SyncNotifier = Annotated[str, Depends(services_only(*ToolSettings.sync_services))]
Reconciler = Annotated[str, Depends(services_only(*ToolSettings.reconcile_services))]
