"""Agents as Cloud Run services, managed through the Cloud Run Admin API v2 over REST.

REST rather than the google-cloud-run client library: the calls run on the executor's shared
async httpx client (no gRPC channel or thread pool of their own), and tests drive them with respx.
Each agent's service accepts traffic from anywhere at the network level but only from the
executor's identity at the IAM level: `roles/run.invoker` is granted to that one account, never to
allUsers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from agora_executor.runtime.base import (
    DeployFailed,
    Deployment,
    DeploySpec,
    agent_key,
    scrub,
    service_name,
)
from agora_executor.runtime.cloud_build import ImageBuilder, is_package_source
from agora_executor.runtime.google_auth import AccessTokenProvider

log = logging.getLogger("agora.executor.runtime")

RUN_API = "https://run.googleapis.com/v2"
RUNTIME_NAME = "cloud-run"
# Cloud Run sets these itself and refuses services that try to.
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"})
_SERVICE_ACCOUNT = re.compile(r"^[a-z0-9._-]+@[a-z0-9.-]+\.gserviceaccount\.com$")
_OPERATION = re.compile(r"^projects/[^/]+/locations/[^/]+/operations/[A-Za-z0-9._-]+$")
_MAX_UPSTREAM_MESSAGE = 300


@dataclass(frozen=True)
class CloudRunConfig:
    """Where agents run and under which identities."""

    project_id: str
    region: str
    # The identity agents run as: an account with no roles.
    runtime_service_account: str
    # The executor's own identity: the only member allowed to invoke agents.
    invoker_service_account: str
    # Known before the first deploy, it gives agents their URL (AGORA_AGENT_PUBLIC_URL) up front.
    project_number: str | None = None
    call_timeout_s: float = 30.0
    deploy_timeout_s: float = 600.0
    poll_initial_s: float = 1.0
    poll_max_s: float = 10.0

    def __post_init__(self) -> None:
        for account in (self.runtime_service_account, self.invoker_service_account):
            if not _SERVICE_ACCOUNT.fullmatch(account):
                raise ValueError(f"not a service account email: {account!r}")


class CloudRunRuntime:
    """Creates or updates `agent-<key>` services, private to the executor."""

    def __init__(
        self,
        config: CloudRunConfig,
        http: httpx.AsyncClient,
        tokens: AccessTokenProvider,
        builder: ImageBuilder | None = None,
    ) -> None:
        self.config = config
        self.http = http
        self.tokens = tokens
        # Builds submitted packages' images; None: only platform agents (image given) deploy.
        self.builder = builder
        self._parent = f"projects/{config.project_id}/locations/{config.region}"

    async def deploy(self, spec: DeploySpec) -> Deployment:
        """Create or update the agent's service, make it private to the executor, return its URL."""
        if not spec.image:
            raise DeployFailed("The agent has no container image to deploy")
        reserved = sorted(RESERVED_ENV & spec.env.keys())
        if reserved:
            raise DeployFailed(f"Environment names reserved by Cloud Run: {', '.join(reserved)}")
        if is_package_source(spec.source):
            if self.builder is None:
                raise DeployFailed("This executor builds no packages: it has no build account")
            # The image of a submitted package exists once this returns (built, or found).
            await self.builder.ensure_image(spec)
        name = service_name(spec.hash_id)
        call = _Calls(self, name, spec.env.values())
        path = f"{self._parent}/services/{name}"
        body = self._service_body(spec, name)
        operation = None
        if await call("GET", path, "read the service", accept={404}) is None:
            operation = await call(
                "POST",
                f"{self._parent}/services",
                "create the service",
                params={"serviceId": name},
                json=body,
                accept={409},  # created meanwhile by a concurrent deploy: update it instead
            )
        if operation is None:
            operation = await call("PATCH", path, "update the service", json=body)
        log.info("deploying agent", extra={"agent_id": spec.agent_id, "service": name})
        await self._wait(call, operation, f"Cloud Run could not deploy {name}")
        policy = self._iam_policy()
        await call("POST", f"{path}:setIamPolicy", "restrict who may invoke", json=policy)
        service = await call("GET", path, "read the deployed service") or {}
        uri = service.get("uri")
        if not isinstance(uri, str) or not uri.startswith("https://"):
            raise DeployFailed(f"Cloud Run gave service {name} no URL")
        revision = str(service.get("latestReadyRevision") or "").rsplit("/", 1)[-1] or None
        extra = {"agent_id": spec.agent_id, "service": name, "revision": revision}
        log.info("deployed agent", extra=extra)
        return Deployment(spec.agent_id, uri, RUNTIME_NAME, revision)

    async def stage(self, spec: DeploySpec) -> Deployment:
        """`deploy`: an updated service serves its latest ready revision at once."""
        return await self.deploy(spec)

    async def commit(self, agent_id: str, hash_id: str) -> None:
        """Nothing to do: the revision serves since `stage`."""

    async def discard(self, agent_id: str, hash_id: str) -> None:
        """Delete the service: its new revision already took the traffic, so nothing earlier
        can be kept serving. A redeploy that fails its probe therefore takes the agent down
        until a good deploy (deploying with no traffic first is what would keep it serving)."""
        await self.undeploy(agent_id, hash_id)

    async def undeploy(self, agent_id: str, hash_id: str) -> None:
        """Delete the agent's service; one already gone is fine."""
        name = service_name(hash_id)
        call = _Calls(self, name, ())
        path = f"{self._parent}/services/{name}"
        operation = await call("DELETE", path, "delete the service", accept={404})
        if operation is not None:
            await self._wait(call, operation, f"Cloud Run could not delete {name}")
        log.info("undeployed agent", extra={"agent_id": agent_id, "service": name})

    async def aclose(self) -> None:
        """Close the builder's client session; the HTTP client belongs to the app."""
        if self.builder is not None:
            self.builder.close()

    def url_for(self, name: str) -> str | None:
        """The deterministic URL Cloud Run gives a service, when the project number is known."""
        if not self.config.project_number:
            return None
        return f"https://{name}-{self.config.project_number}.{self.config.region}.run.app"

    def _service_body(self, spec: DeploySpec, name: str) -> dict[str, Any]:
        labels = {"agora-agent": agent_key(spec.hash_id), "agora-managed-by": "executor"}
        env = dict(spec.env)
        public_url = self.url_for(name)
        if public_url:
            env.setdefault("AGORA_AGENT_PUBLIC_URL", public_url)
        return {
            "labels": labels,
            "ingress": "INGRESS_TRAFFIC_ALL",
            # Explicit: the IAM invoker check stays on whatever the project's defaults are.
            "invokerIamDisabled": False,
            "template": {
                "serviceAccount": self.config.runtime_service_account,
                "labels": labels,
                "containers": [
                    {
                        "image": spec.image,
                        "env": [{"name": k, "value": v} for k, v in sorted(env.items())],
                    }
                ],
            },
        }

    def _iam_policy(self) -> dict[str, Any]:
        """The whole policy, replacing any other: only the executor may invoke."""
        member = f"serviceAccount:{self.config.invoker_service_account}"
        return {"policy": {"bindings": [{"role": "roles/run.invoker", "members": [member]}]}}

    async def _wait(self, call: _Calls, operation: Mapping[str, Any] | None, failed: str) -> None:
        """Poll a long-running operation until done, with backoff, within the deploy deadline."""
        op = dict(operation or {})
        deadline = time.monotonic() + self.config.deploy_timeout_s
        delay = self.config.poll_initial_s
        while not op.get("done"):
            op_name = op.get("name")
            if not isinstance(op_name, str) or not _OPERATION.fullmatch(op_name):
                raise DeployFailed(f"{failed}: no operation to follow")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                limit = self.config.deploy_timeout_s
                raise DeployFailed(f"{failed}: not finished within {limit:g} s")
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, self.config.poll_max_s)
            op = await call("GET", op_name, "follow the operation") or {}
        error = op.get("error")
        if error:
            detail = error.get("message", "") if isinstance(error, dict) else ""
            raise DeployFailed(call.safe(failed, detail))


class _Calls:
    """Authorized, bounded calls to the Admin API for one service; errors become DeployFailed."""

    def __init__(self, runtime: CloudRunRuntime, name: str, secrets: Collection[str]) -> None:
        self.runtime = runtime
        self.name = name
        self.secrets = list(secrets)

    def safe(self, what: str, upstream: str) -> str:
        """`what`, plus the upstream's message shortened and scrubbed of every env value."""
        upstream = scrub(str(upstream), self.secrets).strip()[:_MAX_UPSTREAM_MESSAGE]
        return f"{what}: {upstream}" if upstream else what

    async def __call__(
        self,
        method: str,
        path: str,
        what: str,
        *,
        accept: Collection[int] = (),
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """The JSON answer, or None for a status in `accept`."""
        failed = f"Could not {what} {self.name}"
        try:
            token = await self.runtime.tokens()
        except Exception as exc:  # google-auth raises several unrelated types
            raise DeployFailed(f"{failed}: no Google credentials") from exc
        try:
            response = await self.runtime.http.request(
                method,
                f"{RUN_API}/{path}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.runtime.config.call_timeout_s,
                **kwargs,
            )
        except httpx.TimeoutException as exc:
            raise DeployFailed(f"{failed}: the Cloud Run API did not answer in time") from exc
        except httpx.TransportError as exc:
            raise DeployFailed(f"{failed}: the Cloud Run API is unreachable") from exc
        if response.status_code in accept:
            return None
        if response.is_error:
            status = f"{failed}: HTTP {response.status_code}"
            raise DeployFailed(self.safe(status, _google_error(response)))
        try:
            answer = response.json()
        except ValueError as exc:
            raise DeployFailed(f"{failed}: the Cloud Run API answered no JSON") from exc
        if not isinstance(answer, dict):
            raise DeployFailed(f"{failed}: the Cloud Run API answered no JSON object")
        return answer


def _google_error(response: httpx.Response) -> str:
    """`STATUS: message` from a Google API error body, or "" when there is none."""
    try:
        error = response.json().get("error", {})
        return f"{error.get('status', '')}: {error.get('message', '')}".strip(": ")
    except (ValueError, AttributeError):
        return ""
