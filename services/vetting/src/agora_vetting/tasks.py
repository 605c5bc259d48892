"""Scan tasks through Cloud Tasks: named from the agent and its card, so one is queued once.

Each task is an HTTP POST back to vetting's `/internal/tasks/scan` with the `ScanTicket` as body.
In production it carries an OIDC token for the tasks invoker account, which the handler verifies
like any service token. The local emulator sends no token, so locally the task carries a
credential in its own headers instead (production settings refuse that credential).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc  # type: ignore[import-untyped]
from google.api_core import exceptions as google_errors
from google.auth.exceptions import GoogleAuthError
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcAsyncIOTransport

from agora_common.errors import ServiceUnavailable
from agora_common.settings import service_account_email
from agora_vetting.models import ScanTicket
from agora_vetting.settings import VettingSettings

log = logging.getLogger("agora.vetting.tasks")
TASK_CREDENTIAL_HEADER = "X-Agora-Task-Credential"
SCAN_PATH = "/internal/tasks/scan"


class TasksUnavailable(ServiceUnavailable):
    code, message = "TASKS_UNAVAILABLE", "The scan queue is unavailable; try again later"


def make_client(settings: VettingSettings) -> tasks_v2.CloudTasksAsyncClient:
    if settings.cloud_tasks_emulator_host:
        channel = grpc.aio.insecure_channel(settings.cloud_tasks_emulator_host)
        return tasks_v2.CloudTasksAsyncClient(
            transport=CloudTasksGrpcAsyncIOTransport(channel=channel)
        )
    return tasks_v2.CloudTasksAsyncClient()


class ScanQueue:
    """Made without a client: Google's is built on first use (it looks for credentials then),
    so the service starts, and answers its health checks, even before they are there."""

    def __init__(self, settings: VettingSettings) -> None:
        self._made: tasks_v2.CloudTasksAsyncClient | None = None
        self._settings = settings
        self._timeout = settings.dependency_timeout_s * 2

    @property
    def _client(self) -> tasks_v2.CloudTasksAsyncClient:
        if self._made is None:
            self._made = make_client(self._settings)
        return self._made

    async def ensure_queue(self) -> None:
        """Locally, create the queue when missing (terraform owns it in production)."""
        if not self._settings.cloud_tasks_emulator_host:
            return
        parent = self._settings.queue_path.rsplit("/queues/", 1)[0]
        with contextlib.suppress(google_errors.AlreadyExists):
            await self._client.create_queue(
                parent=parent,
                queue=tasks_v2.Queue(name=self._settings.queue_path),
                timeout=self._timeout,
            )

    async def enqueue(self, ticket: ScanTicket) -> bool:
        """True when queued now; False when a task of this name was queued before."""
        settings = self._settings
        target = (settings.tasks_target_url or "").rstrip("/") + SCAN_PATH
        request = tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST,
            url=target,
            headers={"Content-Type": "application/json"},
            body=ticket.model_dump_json().encode(),
        )
        if settings.local_task_credential is not None:
            request.headers[TASK_CREDENTIAL_HEADER] = (
                settings.local_task_credential.get_secret_value()
            )
        else:
            request.oidc_token = tasks_v2.OidcToken(
                service_account_email=service_account_email(
                    settings.tasks_invoker_name, settings.project_id
                ),
                audience=settings.tasks_target_url,
            )
        task = tasks_v2.Task(
            name=f"{settings.queue_path}/tasks/{ticket.scan_id}", http_request=request
        )
        try:
            await asyncio.wait_for(
                self._client.create_task(parent=settings.queue_path, task=task),
                self._timeout,
            )
        except google_errors.AlreadyExists:
            return False
        except (TimeoutError, google_errors.GoogleAPIError, GoogleAuthError) as exc:
            log.warning("scan not queued", extra={"error": type(exc).__name__})
            raise TasksUnavailable() from exc
        return True
