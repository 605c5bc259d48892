"""Deployments: the vetting service, or an admin through the gateway."""

from __future__ import annotations

from fastapi import APIRouter

from agora_executor.models import DeploymentView, DeployRequest
from agora_executor.routes.deps import Deployer, Deployments

router = APIRouter(tags=["deployments"])


@router.post("/deploy", response_model=DeploymentView, summary="Deploy a vetted agent")
async def deploy(
    body: DeployRequest, deployer: Deployer, deployments: Deployments
) -> DeploymentView:
    """Vetted → deployed → active. A failed deploy is 502 `DEPLOY_FAILED`; it stays vetted."""
    by, actor_uid = deployer
    return await deployments.deploy(body.agent_id, actor_uid, by)
