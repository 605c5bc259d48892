"""Images of submitted packages, built by Cloud Build from the stored source archive.

A submitted tool's card names its package (`metadata.source`, a `gs://.../packages/sha256-<hex>
.tar.gz` written once by the tool service) and the image it runs as (`deployment.image`,
`<region>-docker.pkg.dev/<project>/<repository>/tool-<slug>:<first 16 hex of the digest>`). That
image does not exist until it is built, so the Cloud Run runtime asks `ImageBuilder.ensure_image`
before it deploys a revision:

1. The image must be in this project's tool repository and its tag the package's own digest
   prefix; anything else is refused before any call (a card cannot have a package's build pushed
   over another image, and one tag always means one package's bytes).
2. Artifact Registry is asked whether that tag exists (`GET .../packages/<name>/tags/<tag>`):
   if so, the package was built before and the build is skipped. The repository's tags are
   immutable (infra/terraform/cloud_build.tf), so an existing tag cannot name other bytes.
3. Otherwise one Cloud Build build (regional, `projects/<p>/locations/<r>/builds`) is created:
   the archive as stored is its source, one `docker build` step, the image pushed by Cloud Build
   itself (`images`), the build service account, logs to Cloud Logging only, tags naming the
   agent, a timeout. The build is followed with GetBuild, with backoff, until it ends or the
   deadline passes (then it is cancelled); every change of status or step is logged.

`gcr.io/cloud-builders/docker` rather than kaniko: the package's Dockerfile is untrusted code.
With `docker build`, its RUN instructions execute in throwaway containers on Docker's default
network, not on the `cloudbuild` network where Cloud Build serves the build account's
credentials (Cloud Build's documentation has Dockerfiles pass `--network=cloudbuild` to reach
them; this step never does), and the push is done afterwards by Cloud Build from `images`.
Kaniko runs those RUN instructions inside the build step itself, beside the credentials it
needs for its own push.

The client is the official google-cloud-build `CloudBuildClient` on its REST transport (the
installed version has no asynchronous REST transport), which sends with its own `requests`
session, as Google's client libraries bring their own transports (Firestore's is gRPC). Each
call goes through `build_calls.Calls`: a worker thread, a fresh token, a timeout, `retry=None`;
the client's defaults (600 s, and retries for GetBuild) would make an outage slow to report.
The build is followed with GetBuild rather than the long-running operation, whose REST
operations client opens a session of its own outside this adapter.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from google.api_core.client_options import ClientOptions
from google.cloud.devtools import cloudbuild_v1
from google.protobuf import duration_pb2

from agora_common.models.card import PACKAGE_SOURCE
from agora_executor.runtime.base import DeployFailed, DeploySpec, agent_key
from agora_executor.runtime.build_calls import CallCredentials, Calls
from agora_executor.runtime.google_auth import AccessTokenProvider

log = logging.getLogger("agora.executor.runtime")

CLOUD_BUILD_HOST = "cloudbuild.googleapis.com"
ARTIFACT_API = "https://artifactregistry.googleapis.com/v1"
DOCKER_BUILDER = "gcr.io/cloud-builders/docker"
BUILD_TAG = "agora-package"

_SERVICE_ACCOUNT = re.compile(r"^[a-z0-9._-]+@[a-z0-9.-]+\.gserviceaccount\.com$")
_REPOSITORY = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_IMAGE = re.compile(
    r"(?P<location>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])/"
    r"(?P<repository>[a-z][a-z0-9-]{0,62})/(?P<package>tool-[a-z0-9](?:[a-z0-9-]{0,126}[a-z0-9])?)"
    r":(?P<tag>[0-9a-f]{16})"
)
_BUILD_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_TAG_CHARS = 16
_MAX_UPSTREAM_MESSAGE = 300
_Status = cloudbuild_v1.Build.Status
_RUNNING = frozenset({_Status.STATUS_UNKNOWN, _Status.PENDING, _Status.QUEUED, _Status.WORKING})
# Hop-by-hop or length/encoding headers: httpx sets its own, and it hands back decoded bodies.

T = TypeVar("T")
Outcome = Literal["not-a-package", "exists", "built"]


@dataclass(frozen=True)
class CloudBuildConfig:
    """Where package images are built, pushed, and as whom."""

    project_id: str
    region: str
    # The identity builds run as: reads the sources bucket, writes build logs, pushes to the
    # tool repository, nothing else (infra/terraform/storage.tf, cloud_build.tf).
    build_service_account: str
    # The Artifact Registry repository package images go to, in `region`.
    artifact_repository: str = "agora-tools"
    # Cloud Build's own timeout of the build, and how long a deploy waits for it in all.
    build_timeout_s: float = 600.0
    call_timeout_s: float = 30.0
    poll_initial_s: float = 2.0
    poll_max_s: float = 10.0
    api_endpoint: str = CLOUD_BUILD_HOST

    def __post_init__(self) -> None:
        if not _SERVICE_ACCOUNT.fullmatch(self.build_service_account):
            raise ValueError(f"not a service account email: {self.build_service_account!r}")
        if not _REPOSITORY.fullmatch(self.artifact_repository):
            raise ValueError(
                f"not an Artifact Registry repository id: {self.artifact_repository!r}"
            )
        if self.build_timeout_s <= 0 or self.call_timeout_s <= 0:
            raise ValueError("timeouts must be positive")


@dataclass(frozen=True)
class PackageBuild:
    """One package's build: its stored archive and the image made from it."""

    bucket: str
    object: str
    image: str
    location: str
    repository: str
    package: str
    tag: str


def is_package_source(source: str | None) -> bool:
    """Whether `source` names a submitted package (rather than a platform agent's folder)."""
    return source is not None and PACKAGE_SOURCE.fullmatch(source) is not None


def package_build(spec: DeploySpec, config: CloudBuildConfig) -> PackageBuild | None:
    """What to build for `spec`: None for a platform agent, whose image is given."""
    if not is_package_source(spec.source):
        return None
    assert spec.source is not None
    # gs://<bucket>/packages/sha256-<hex>.tar.gz, as PACKAGE_SOURCE matched it.
    bucket, _, stored = spec.source.removeprefix("gs://").partition("/")
    digest = stored.removeprefix("packages/sha256-").removesuffix(".tar.gz")
    image = spec.image or ""
    match = _IMAGE.fullmatch(image)
    where = f"{config.region}-docker.pkg.dev/{config.project_id}/{config.artifact_repository}/"
    if match is None or not image.startswith(where):
        raise DeployFailed(f"A package's image must be a tool-<name>:<tag> image in {where}")
    if match["tag"] != digest[:_TAG_CHARS]:
        raise DeployFailed("A package's image tag must be the first 16 hex of its source digest")
    return PackageBuild(
        bucket=bucket,
        object=stored,
        image=image,
        location=match["location"],
        repository=match["repository"],
        package=match["package"],
        tag=match["tag"],
    )


class ImageBuilder:
    """Builds a submitted package's image with Cloud Build unless that image already exists."""

    def __init__(
        self, config: CloudBuildConfig, http: httpx.AsyncClient, tokens: AccessTokenProvider
    ) -> None:
        self.config = config
        self.http = http
        self.tokens = tokens
        self._parent = f"projects/{config.project_id}/locations/{config.region}"
        self._client = cloudbuild_v1.CloudBuildClient(
            transport="rest",
            credentials=CallCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=config.api_endpoint),
        )

    async def ensure_image(self, spec: DeploySpec) -> Outcome:
        """Make sure `spec.image` exists: built now, found, or not a package's to build."""
        target = package_build(spec, self.config)
        if target is None:
            return "not-a-package"
        calls = Calls(
            tokens=self.tokens,
            http=self.http,
            timeout_s=self.config.call_timeout_s,
            image=target.image,
            secrets=spec.env.values(),
        )
        extra = {"agent_id": spec.agent_id, "image": target.image}
        if await self._exists(calls, target):
            log.info("package image exists; no build", extra=extra)
            return "exists"
        build_id = await self._build(calls, spec, target)
        log.info("built package image", extra={**extra, "build_id": build_id})
        return "built"

    def build_request(self, spec: DeploySpec, target: PackageBuild) -> cloudbuild_v1.Build:
        """The build: the stored archive, `docker build -t <image> .`, pushed by Cloud Build."""
        timeout = duration_pb2.Duration(seconds=max(1, math.ceil(self.config.build_timeout_s)))
        account = self.config.build_service_account
        return cloudbuild_v1.Build(
            source=cloudbuild_v1.Source(
                storage_source=cloudbuild_v1.StorageSource(
                    bucket=target.bucket, object_=target.object
                )
            ),
            steps=[cloudbuild_v1.BuildStep(name=DOCKER_BUILDER, args=_docker_args(target.image))],
            images=[target.image],
            timeout=timeout,
            # A build still queued when it could no longer finish in time is not started.
            queue_ttl=timeout,
            service_account=f"projects/{self.config.project_id}/serviceAccounts/{account}",
            options=cloudbuild_v1.BuildOptions(
                logging=cloudbuild_v1.BuildOptions.LoggingMode.CLOUD_LOGGING_ONLY,
            ),
            tags=[BUILD_TAG, f"agent-{agent_key(spec.hash_id)}"],
        )

    async def _exists(self, calls: Calls, target: PackageBuild) -> bool:
        """Whether the repository has the image's tag (one tag, one package digest)."""
        path = (
            f"projects/{self.config.project_id}/locations/{target.location}/repositories/"
            f"{target.repository}/packages/{quote(target.package, safe='')}/tags/{target.tag}"
        )
        return await calls.artifact_registry(f"{ARTIFACT_API}/{path}")

    async def _build(self, calls: Calls, spec: DeploySpec, target: PackageBuild) -> str:
        """Create the build and follow it to its end; the build id."""
        started = time.monotonic()
        request = cloudbuild_v1.CreateBuildRequest(
            parent=self._parent, build=self.build_request(spec, target)
        )
        operation = await calls.cloud_build(self._client.create_build, "start the build", request)
        metadata = operation.metadata
        if not isinstance(metadata, cloudbuild_v1.BuildOperationMetadata):
            raise DeployFailed(f"Cloud Build did not say which build makes {target.image}")
        build = metadata.build
        build_id = str(build.id)
        if not _BUILD_ID.fullmatch(build_id):
            raise DeployFailed(f"Cloud Build gave the build of {target.image} no id")
        name = f"{self._parent}/builds/{build_id}"
        extra = {"agent_id": spec.agent_id, "image": target.image, "build_id": build_id}
        log.info("building package image", extra={**extra, "log_url": build.log_url or None})
        deadline = started + self.config.build_timeout_s
        delay = self.config.poll_initial_s
        seen: tuple[str, str | None] | None = None
        while True:
            status = _Status(build.status)
            progress = (status.name, _current_step(build))
            if progress != seen:
                elapsed = round(time.monotonic() - started, 1)
                step = {"status": progress[0], "step": progress[1], "elapsed_s": elapsed}
                log.info("package build progress", extra={**extra, **step})
                seen = progress
            if status is _Status.SUCCESS:
                return build_id
            if status not in _RUNNING:
                raise DeployFailed(calls.safe(_failed(build_id, target, status), _why(build)))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                cancelled = await self._cancel(calls, name, extra)
                limit = self.config.build_timeout_s
                raise DeployFailed(
                    f"The build {build_id} of {target.image} did not finish within {limit:g} s"
                    f" ({status.name}); "
                    + ("it was cancelled" if cancelled else "it could not be cancelled")
                )
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, self.config.poll_max_s)
            request_get = cloudbuild_v1.GetBuildRequest(name=name)
            build = await calls.cloud_build(self._client.get_build, "follow the build", request_get)

    async def _cancel(self, calls: Calls, name: str, extra: Mapping[str, Any]) -> bool:
        """Best effort: a build nobody waits for should not run on (its own timeout stops it).

        Only a deploy that gave up cancels: one whose caller went away leaves the build running,
        and the next deploy of the same package finds its image."""
        request = cloudbuild_v1.CancelBuildRequest(name=name)
        try:
            await calls.cloud_build(self._client.cancel_build, "cancel the build", request)
        except DeployFailed as exc:
            log.warning("could not cancel a late build", extra={**extra, "error": exc.message})
            return False
        return True

    def close(self) -> None:
        """Close the client's session (the httpx client belongs to the app)."""
        self._client.transport.close()  # type: ignore[no-untyped-call]


def _docker_args(image: str) -> list[str]:
    return ["build", "-t", image, "."]


def _current_step(build: cloudbuild_v1.Build) -> str | None:
    """`<index>:<status>` of the step that runs (or last ran), for progress logs."""
    current: str | None = None
    for index, step in enumerate(build.steps):
        status = _Status(step.status)
        if status is not _Status.STATUS_UNKNOWN:
            current = f"{index}:{status.name}"
    return current


def _failed(build_id: str, target: PackageBuild, status: cloudbuild_v1.Build.Status) -> str:
    return f"The build {build_id} of {target.image} ended {status.name}"


def _why(build: cloudbuild_v1.Build) -> str:
    info = build.failure_info
    detail = info.detail or build.status_detail
    kind = cloudbuild_v1.Build.FailureInfo.FailureType(info.type_).name
    return f"{kind}: {detail}" if detail and info.type_ else detail
