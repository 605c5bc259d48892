"""What the vetting routes are handed, built once on the lifespan's clients."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

from agora_common.agents import AgentDirectory
from agora_common.app import Resources
from agora_common.audit import AuditLog
from agora_common.egress import EgressGuard, IPAddress
from agora_common.egress_client import make_guarded_client
from agora_common.errors import AgoraError
from agora_common.signing.settings import NoCardSigner, open_card_signer
from agora_common.webhooks import WebhookSender
from agora_vetting.owner_webhooks import OwnerWebhooks
from agora_vetting.package_checks import PackageChecker
from agora_vetting.repository import VettingRepository
from agora_vetting.scanning import Scanner
from agora_vetting.service import VettingService
from agora_vetting.settings import VettingSettings
from agora_vetting.tasks import ScanQueue

log = logging.getLogger("agora.vetting")


@dataclass(frozen=True)
class VettingContainer:
    vetting: VettingService
    owner_webhooks: OwnerWebhooks
    package_checks: PackageChecker


async def build(
    settings: VettingSettings, resources: Resources, stack: AsyncExitStack
) -> VettingContainer:
    assert resources.firestore is not None
    timeout = settings.dependency_timeout_s
    queue = ScanQueue(settings)
    try:
        await queue.ensure_queue()
    except (AgoraError, Exception) as exc:  # the first enqueue says so again
        log.warning("scan queue not checked", extra={"error": type(exc).__name__})
    repository = VettingRepository(resources.firestore, timeout_s=timeout)

    async def deployed_locally(address: IPAddress, port: int) -> bool:
        host = f"[{address}]" if address.version == 6 else str(address)
        return await repository.local_deployment_at(f"http://{host}:{port}")

    # The one egress rule; locally, also agents the executor's local runtime deployed.
    guard = EgressGuard(
        allowed_endpoints=settings.egress_local_endpoints,
        admits=deployed_locally if settings.is_local else None,
    )
    probes = make_guarded_client(guard, timeout_s=settings.probe_timeout_s)
    stack.push_async_callback(probes.aclose)
    agents = AgentDirectory(resources.services, ttl_s=0)
    # Owners' webhooks: public addresses only, in every mode.
    webhooks = WebhookSender(EgressGuard())
    stack.push_async_callback(webhooks.aclose)
    owner_webhooks = OwnerWebhooks(repository, webhooks)
    # The platform's key (the registry's, for A2A cards) signs each scan receipt as it is stored.
    signer = await stack.enter_async_context(open_card_signer(settings))
    vetting = VettingService(
        repository,
        queue,
        Scanner(agents, guard, probes, settings, resources.blobs),
        agents,
        resources.services,
        AuditLog(resources.firestore, timeout_s=timeout),
        deploy_timeout_s=settings.deploy_timeout_s,
        owner_webhooks=owner_webhooks,
        signer=None if isinstance(signer, NoCardSigner) else signer,
    )
    package_checks = PackageChecker(
        timeout_s=settings.scan_timeout_s,
        memory_mb=settings.scan_memory_mb,
        concurrency=settings.package_check_concurrency,
        wait_s=settings.package_check_wait_s,
    )
    return VettingContainer(
        vetting=vetting, owner_webhooks=owner_webhooks, package_checks=package_checks
    )
