"""ImageBuilder and the Cloud Run runtime's builds, against respx stand-ins of Google's APIs.

The official google-cloud-build client (REST transport) runs as in production, its requests
session sent through httpx (tests.support.google_rest); respx serves the Cloud Build, Artifact
Registry and Cloud Run Admin REST APIs. Nothing of the executor is mocked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from google.cloud.devtools.cloudbuild_v1 import Build, BuildOptions
from google.cloud.devtools.cloudbuild_v1.services.cloud_build.transports import (
    rest as cloud_build_rest,
)
from pydantic import ValidationError

from agora_common.app import Needs, close_resources, open_resources
from agora_executor.runtime import (
    CloudRunConfig,
    CloudRunRuntime,
    DeployFailed,
    DeploySpec,
    service_name,
)
from agora_executor.runtime.base import agent_key
from agora_executor.runtime.cloud_build import CloudBuildConfig, ImageBuilder
from agora_executor.runtimes import runtime_for
from agora_executor.settings import ExecutorSettings
from tests.support.factories import local_settings_kwargs
from tests.support.google_rest import routed_through

PROJECT = "agora-prod"
REGION = "europe-west1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
DIGEST = "3f" * 32
BUCKET = "agora-prod-agora-sources"
OBJECT = f"packages/sha256-{DIGEST}.tar.gz"
SOURCE = f"gs://{BUCKET}/{OBJECT}"
IMAGE = f"{REGION}-docker.pkg.dev/{PROJECT}/agora-tools/tool-weather:{DIGEST[:16]}"
BUILD_SA = "agora-build@agora-prod.iam.gserviceaccount.com"
RUNTIME_SA = "agora-agent-runtime@agora-prod.iam.gserviceaccount.com"
EXECUTOR_SA = "agora-executor@agora-prod.iam.gserviceaccount.com"
HASH_ID = "Tw_weather42"
TOKEN = "ya29.test-access-token-value"
SECRET = "s3cr3t-agent-signing-key-value"

BUILD_ID = "0b5ae6c4-7c9e-4b8e-9f3a-1d2c3b4a5f60"
BUILD_NAME = f"{PARENT}/builds/{BUILD_ID}"
CLOUD_BUILD = "https://cloudbuild.googleapis.com/v1"
CREATE_URL = f"{CLOUD_BUILD}/{PARENT}/builds"
BUILD_URL = f"{CLOUD_BUILD}/{BUILD_NAME}"
TAG_URL = (
    "https://artifactregistry.googleapis.com/v1/"
    f"{PARENT}/repositories/agora-tools/packages/tool-weather/tags/{DIGEST[:16]}"
)
RUN = "https://run.googleapis.com/v2"
SERVICE = f"{PARENT}/services/{service_name(HASH_ID)}"


def make_config(**overrides: Any) -> CloudBuildConfig:
    values: dict[str, Any] = {
        "project_id": PROJECT,
        "region": REGION,
        "build_service_account": BUILD_SA,
        "build_timeout_s": 5.0,
        "call_timeout_s": 2.0,
        "poll_initial_s": 0.01,
        "poll_max_s": 0.02,
    }
    values.update(overrides)
    return CloudBuildConfig(**values)


def make_spec(**overrides: Any) -> DeploySpec:
    values: dict[str, Any] = {
        "agent_id": "agent-7",
        "hash_id": HASH_ID,
        "image": IMAGE,
        "source": SOURCE,
        "env": {"AGORA_AGENT_HASH_ID": HASH_ID, "AGORA_AGENT_SECRET": SECRET},
    }
    values.update(overrides)
    return DeploySpec(**values)


async def tokens() -> str:
    return TOKEN


def build(status: Build.Status, **fields: Any) -> dict[str, Any]:
    """A Build as the REST API answers it (the client asks for integer enums)."""
    return {"id": BUILD_ID, "name": BUILD_NAME, "status": int(status), **fields}


def created(status: Build.Status = Build.Status.QUEUED) -> httpx.Response:
    """CreateBuild's long-running operation, the build in its metadata."""
    metadata = {
        "@type": "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata",
        "build": build(status, logUrl=f"https://console.cloud.google.com/cloud-build/{BUILD_ID}"),
    }
    return httpx.Response(
        200, json={"name": f"{PARENT}/operations/op-build-1", "metadata": metadata}
    )


def answer(status: Build.Status, **fields: Any) -> httpx.Response:
    return httpx.Response(200, json=build(status, **fields))


def google_error(status: int, name: str, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": status, "status": name, "message": message}}
    )


@pytest.fixture
def google() -> Iterator[respx.MockRouter]:
    """Google's APIs; every call must carry the token, and only in its Authorization header.
    The agent's secret goes to Cloud Run (its revision's env) and to no build or registry call."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router
        for call in router.calls:
            assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
            assert TOKEN.encode() not in call.request.content
            if call.request.url.host != "run.googleapis.com":
                assert SECRET.encode() not in call.request.content


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(autouse=True)
async def google_rest_through_httpx(
    monkeypatch: pytest.MonkeyPatch, http: httpx.AsyncClient
) -> None:
    """The Cloud Build client's requests session sends on `http`, where respx serves it."""
    session = routed_through(http, asyncio.get_running_loop())
    monkeypatch.setattr(cloud_build_rest, "AuthorizedSession", session)


@pytest.fixture
def builder(http: httpx.AsyncClient) -> Iterator[ImageBuilder]:
    image_builder = ImageBuilder(make_config(), http, tokens)
    yield image_builder
    image_builder.close()


def body_of(route: respx.Route, index: int = 0) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(route.calls[index].request.content)
    return content


def mock_build(
    google: respx.MockRouter, *polls: httpx.Response, forever: httpx.Response | None = None
) -> tuple[respx.Route, respx.Route, respx.Route]:
    """No image yet, a build created, then GetBuild answering `polls` in turn (or `forever`)."""
    tag = google.get(TAG_URL).mock(return_value=google_error(404, "NOT_FOUND", "no such tag"))
    create = google.post(CREATE_URL).mock(return_value=created())
    poll = google.get(BUILD_URL)
    if forever is not None:
        poll.mock(return_value=forever)
    else:
        poll.mock(side_effect=list(polls))
    return tag, create, poll


# --------------------------------------------------------------------------- #
# The build
# --------------------------------------------------------------------------- #


async def test_the_build_request_and_following_it_to_success(
    google: respx.MockRouter, builder: ImageBuilder
) -> None:
    working = {"steps": [{"name": "gcr.io/cloud-builders/docker", "status": 2}]}
    success = {
        "results": {"images": [{"name": IMAGE, "digest": "sha256:" + "9" * 64}]},
        "steps": [{"name": "gcr.io/cloud-builders/docker", "status": 3}],
    }
    tag, create, poll = mock_build(
        google,
        answer(Build.Status.QUEUED),
        answer(Build.Status.WORKING, **working),
        answer(Build.Status.SUCCESS, **success),
    )

    assert await builder.ensure_image(make_spec()) == "built"

    assert (tag.call_count, create.call_count, poll.call_count) == (1, 1, 3)
    # Regional: the build runs where the bucket and the repository are.
    assert create.calls[0].request.url.path == f"/v1/{PARENT}/builds"
    assert body_of(create) == {
        "source": {"storageSource": {"bucket": BUCKET, "object": OBJECT}},
        "steps": [{"name": "gcr.io/cloud-builders/docker", "args": ["build", "-t", IMAGE, "."]}],
        "images": [IMAGE],
        "timeout": "5s",
        "queueTtl": "5s",
        "serviceAccount": f"projects/{PROJECT}/serviceAccounts/{BUILD_SA}",
        "options": {"logging": int(BuildOptions.LoggingMode.CLOUD_LOGGING_ONLY)},
        "tags": ["agora-package", f"agent-{agent_key(HASH_ID)}"],
    }


async def test_progress_is_logged_with_the_build_id(
    google: respx.MockRouter, builder: ImageBuilder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.executor.runtime")
    steps = [{"name": "gcr.io/cloud-builders/docker", "status": 2}]
    mock_build(
        google,
        answer(Build.Status.WORKING, steps=steps),
        answer(Build.Status.WORKING, steps=steps),  # unchanged: not logged again
        answer(Build.Status.SUCCESS),
    )

    await builder.ensure_image(make_spec())

    progress = [r for r in caplog.records if r.getMessage() == "package build progress"]
    assert [(r.status, r.step) for r in progress] == [  # type: ignore[attr-defined]
        ("QUEUED", None),
        ("WORKING", "0:WORKING"),
        ("SUCCESS", None),
    ]
    assert {r.build_id for r in progress} == {BUILD_ID}  # type: ignore[attr-defined]
    assert {r.agent_id for r in progress} == {"agent-7"}  # type: ignore[attr-defined]
    done = [r for r in caplog.records if r.getMessage() == "built package image"]
    assert len(done) == 1


@pytest.mark.parametrize(
    "status",
    [
        Build.Status.FAILURE,
        Build.Status.INTERNAL_ERROR,
        Build.Status.TIMEOUT,
        Build.Status.CANCELLED,
        Build.Status.EXPIRED,
    ],
)
async def test_a_build_that_ends_badly_fails_fast_with_its_id_and_status(
    google: respx.MockRouter, builder: ImageBuilder, status: Build.Status
) -> None:
    failure = {
        "type": int(Build.FailureInfo.FailureType.USER_BUILD_STEP),
        "detail": 'Build step failure: build step 0 "gcr.io/cloud-builders/docker" failed',
    }
    _, _, poll = mock_build(google, answer(status, failureInfo=failure))

    started = time.monotonic()
    with pytest.raises(DeployFailed) as caught:
        await builder.ensure_image(make_spec())

    assert time.monotonic() - started < 1.0
    message = caught.value.message
    assert BUILD_ID in message
    assert status.name in message
    assert "USER_BUILD_STEP" in message
    assert poll.call_count == 1  # no polling past the end


async def test_a_build_past_its_deadline_is_cancelled_and_fails(
    google: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    _, create, poll = mock_build(google, forever=answer(Build.Status.WORKING))
    cancel = google.post(f"{BUILD_URL}:cancel").mock(return_value=answer(Build.Status.CANCELLED))
    late = ImageBuilder(make_config(build_timeout_s=0.2), http, tokens)

    started = time.monotonic()
    with pytest.raises(
        DeployFailed, match=r"did not finish within 0\.2 s.*was cancelled"
    ) as caught:
        await late.ensure_image(make_spec())

    assert time.monotonic() - started < 2.0
    assert BUILD_ID in caught.value.message
    assert "WORKING" in caught.value.message
    assert poll.call_count >= 2  # it polled, with backoff, until the deadline
    assert cancel.call_count == 1
    # Cloud Build's own timeout is whole seconds, never less than one.
    assert body_of(create)["timeout"] == "1s"


async def test_a_cancel_that_fails_still_reports_the_deadline(
    google: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    mock_build(google, forever=answer(Build.Status.QUEUED))
    google.post(f"{BUILD_URL}:cancel").mock(return_value=google_error(403, "PERMISSION_DENIED", ""))
    late = ImageBuilder(make_config(build_timeout_s=0.1), http, tokens)

    with pytest.raises(DeployFailed, match=r"did not finish within.*could not be cancelled"):
        await late.ensure_image(make_spec())


# --------------------------------------------------------------------------- #
# APIs that fail: fast, without retries, as DeployFailed
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("connection refused"), "Cloud Build API is unreachable"),
        (httpx.ReadTimeout("timed out"), "Cloud Build API did not answer in time"),
        (google_error(503, "UNAVAILABLE", "The service is unavailable"), "HTTP 503"),
        (google_error(403, "PERMISSION_DENIED", "cloudbuild.builds.create denied"), "HTTP 403"),
    ],
)
async def test_an_unreachable_or_failing_cloud_build_fails_fast(
    google: respx.MockRouter, builder: ImageBuilder, failure: Any, expected: str
) -> None:
    google.get(TAG_URL).mock(return_value=httpx.Response(404))
    create = google.post(CREATE_URL)
    if isinstance(failure, httpx.Response):
        create.mock(return_value=failure)
    else:
        create.mock(side_effect=failure)

    started = time.monotonic()
    with pytest.raises(DeployFailed, match=expected) as caught:
        await builder.ensure_image(make_spec())

    assert time.monotonic() - started < 1.0
    assert create.call_count == 1  # no retry
    assert (caught.value.status_code, caught.value.code) == (502, "DEPLOY_FAILED")


async def test_following_a_build_is_not_retried_on_an_outage(
    google: respx.MockRouter, builder: ImageBuilder
) -> None:
    """The client's default GetBuild retry would go on for 600 s."""
    _, _, poll = mock_build(google, google_error(503, "UNAVAILABLE", "backend unavailable"))

    started = time.monotonic()
    with pytest.raises(DeployFailed, match=r"follow the build.*HTTP 503"):
        await builder.ensure_image(make_spec())

    assert time.monotonic() - started < 1.0
    assert poll.call_count == 1


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("connection refused"), "unreachable"),
        (google_error(403, "PERMISSION_DENIED", "artifactregistry.tags.get denied"), "HTTP 403"),
    ],
)
async def test_an_unreachable_artifact_registry_fails_before_any_build(
    google: respx.MockRouter, builder: ImageBuilder, failure: Any, expected: str
) -> None:
    if isinstance(failure, httpx.Response):
        google.get(TAG_URL).mock(return_value=failure)
    else:
        google.get(TAG_URL).mock(side_effect=failure)
    create = google.post(CREATE_URL)

    with pytest.raises(DeployFailed, match=expected):
        await builder.ensure_image(make_spec())

    assert not create.called


async def test_no_credentials_become_deploy_failed(
    google: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    async def broken() -> str:
        raise RuntimeError("no default credentials found")

    with pytest.raises(DeployFailed, match="no Google credentials"):
        await ImageBuilder(make_config(), http, broken).ensure_image(make_spec())
    assert not google.calls


async def test_no_token_or_secret_in_any_log_record(
    google: respx.MockRouter, builder: ImageBuilder, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything at DEBUG, the Google client's own request logs included; a failure that quotes
    the agent's secret is scrubbed before it reaches the error."""
    caplog.set_level(logging.DEBUG)
    echo = f"step exited 1; printed AGORA_AGENT_SECRET={SECRET}"
    mock_build(
        google,
        answer(Build.Status.WORKING),
        answer(Build.Status.FAILURE, failureInfo={"type": 5, "detail": echo}),
    )

    with pytest.raises(DeployFailed) as caught:
        await builder.ensure_image(make_spec())

    error = caught.value
    assert "[redacted]" in error.message
    texts = [str(error), repr(error), error.message, caplog.text]
    texts += [json.dumps(vars(record), default=str) for record in caplog.records]
    assert not [text for text in texts if TOKEN in text or SECRET in text]
    assert any(record.name == "agora.executor.runtime" for record in caplog.records)
    # The client's own DEBUG request logs were there to be checked.
    assert any(record.name.startswith("google.cloud.devtools") for record in caplog.records)


# --------------------------------------------------------------------------- #
# What is not built
# --------------------------------------------------------------------------- #


async def test_an_existing_image_skips_the_build(
    google: respx.MockRouter, builder: ImageBuilder
) -> None:
    tag = google.get(TAG_URL).mock(
        return_value=httpx.Response(
            200, json={"name": "tag", "version": "versions/sha256:" + "a" * 64}
        )
    )
    create = google.post(CREATE_URL)

    assert await builder.ensure_image(make_spec()) == "exists"

    assert tag.call_count == 1
    assert not create.called


async def test_a_platform_agent_is_not_built(
    google: respx.MockRouter, builder: ImageBuilder
) -> None:
    spec = make_spec(source="agents/quantflow", image="europe-docker.pkg.dev/x/agents/q:1")
    assert await builder.ensure_image(spec) == "not-a-package"
    assert not google.calls


@pytest.mark.parametrize(
    "image",
    [
        None,
        # Another repository (the platform's own images), another project, another region.
        f"{REGION}-docker.pkg.dev/{PROJECT}/agora/tool-weather:{DIGEST[:16]}",
        f"{REGION}-docker.pkg.dev/other-project/agora-tools/tool-weather:{DIGEST[:16]}",
        f"us-central1-docker.pkg.dev/{PROJECT}/agora-tools/tool-weather:{DIGEST[:16]}",
        # Not a tool image, a tag that is not this package's digest, a digest reference.
        f"{REGION}-docker.pkg.dev/{PROJECT}/agora-tools/executor:{DIGEST[:16]}",
        f"{REGION}-docker.pkg.dev/{PROJECT}/agora-tools/tool-weather:{'0' * 16}",
        f"{REGION}-docker.pkg.dev/{PROJECT}/agora-tools/tool-weather@sha256:{DIGEST}",
    ],
)
async def test_a_package_image_this_builder_may_not_make_is_refused_before_any_call(
    google: respx.MockRouter, builder: ImageBuilder, image: str | None
) -> None:
    with pytest.raises(DeployFailed, match="package's image"):
        await builder.ensure_image(make_spec(image=image))
    assert not google.calls


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"build_service_account": "allUsers"}, "service account"),
        ({"artifact_repository": "Agora_Tools"}, "repository id"),
        ({"build_timeout_s": 0}, "positive"),
    ],
)
def test_the_config_is_checked(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        make_config(**overrides)


# --------------------------------------------------------------------------- #
# The Cloud Run runtime: build, then deploy exactly spec.image
# --------------------------------------------------------------------------- #


def run_config() -> CloudRunConfig:
    return CloudRunConfig(
        project_id=PROJECT,
        region=REGION,
        runtime_service_account=RUNTIME_SA,
        invoker_service_account=EXECUTOR_SA,
        call_timeout_s=2.0,
        deploy_timeout_s=2.0,
        poll_initial_s=0.01,
        poll_max_s=0.02,
    )


def mock_cloud_run(google: respx.MockRouter) -> respx.Route:
    """A service created in one step; the create route."""
    uri = f"https://{service_name(HASH_ID)}-abc-ew.a.run.app"
    served = {"name": SERVICE, "uri": uri, "latestReadyRevision": f"{SERVICE}/revisions/r-1"}
    google.get(f"{RUN}/{SERVICE}").mock(
        side_effect=[httpx.Response(404), httpx.Response(200, json=served)]
    )
    create = google.post(f"{RUN}/{PARENT}/services").mock(
        return_value=httpx.Response(200, json={"name": f"{PARENT}/operations/op-run", "done": True})
    )
    google.post(f"{RUN}/{SERVICE}:setIamPolicy").mock(return_value=httpx.Response(200, json={}))
    return create


async def test_stage_builds_the_package_then_deploys_exactly_its_image(
    google: respx.MockRouter, http: httpx.AsyncClient, builder: ImageBuilder
) -> None:
    _, build_create, _ = mock_build(google, answer(Build.Status.SUCCESS))
    run_create = mock_cloud_run(google)
    runtime = CloudRunRuntime(run_config(), http, tokens, builder)

    deployment = await runtime.stage(make_spec())

    assert deployment.revision == "r-1"
    (container,) = body_of(run_create)["template"]["containers"]
    assert container["image"] == IMAGE
    order = [str(call.request.url) for call in google.calls]
    assert order.index(next(u for u in order if u.startswith(CREATE_URL))) < order.index(
        f"{RUN}/{PARENT}/services?serviceId={service_name(HASH_ID)}"
    )
    assert build_create.call_count == 1


async def test_a_failed_build_deploys_nothing(
    google: respx.MockRouter, http: httpx.AsyncClient, builder: ImageBuilder
) -> None:
    mock_build(google, answer(Build.Status.FAILURE))
    run_create = mock_cloud_run(google)
    runtime = CloudRunRuntime(run_config(), http, tokens, builder)

    with pytest.raises(DeployFailed, match=BUILD_ID):
        await runtime.stage(make_spec())

    assert not run_create.called
    assert not [c for c in google.calls if c.request.url.host == "run.googleapis.com"]


async def test_a_platform_agent_deploys_as_before(
    google: respx.MockRouter, http: httpx.AsyncClient, builder: ImageBuilder
) -> None:
    image = "europe-docker.pkg.dev/agora-prod/agora/quantflow:1.0.0"
    run_create = mock_cloud_run(google)
    runtime = CloudRunRuntime(run_config(), http, tokens, builder)

    await runtime.stage(make_spec(source="agents/quantflow", image=image))

    assert body_of(run_create)["template"]["containers"][0]["image"] == image
    assert {c.request.url.host for c in google.calls} == {"run.googleapis.com"}


async def test_a_package_without_a_builder_is_refused_before_any_call(
    google: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    runtime = CloudRunRuntime(run_config(), http, tokens)
    with pytest.raises(DeployFailed, match="builds no packages"):
        await runtime.stage(make_spec())
    assert not google.calls


# --------------------------------------------------------------------------- #
# Settings: the executor's Cloud Run runtime gets a builder when it has a build account
# --------------------------------------------------------------------------- #


def executor_settings(dev_key: tuple[Path, Path], **overrides: Any) -> ExecutorSettings:
    kwargs = local_settings_kwargs(
        *dev_key,
        "http://executor",
        project_id=PROJECT,
        runtime="cloud-run",
        region=REGION,
        agent_service_account=RUNTIME_SA,
        **overrides,
    )
    return ExecutorSettings(**kwargs)


async def test_the_settings_give_the_cloud_run_runtime_its_builder(
    dev_key: tuple[Path, Path],
) -> None:
    settings = executor_settings(
        dev_key, build_service_account=BUILD_SA, build_timeout_s=900, artifact_repository="tools"
    )
    resources = open_resources(settings, Needs())
    try:
        runtime = runtime_for(settings, resources)
        assert isinstance(runtime, CloudRunRuntime)
        assert runtime.builder is not None
        config = runtime.builder.config
        assert (config.project_id, config.region, config.build_service_account) == (
            PROJECT,
            REGION,
            BUILD_SA,
        )
        assert (config.artifact_repository, config.build_timeout_s) == ("tools", 900)
        # One token source for Cloud Run, Cloud Build and Artifact Registry.
        assert runtime.builder.tokens is runtime.tokens
        await runtime.aclose()
    finally:
        await close_resources(resources)


async def test_without_a_build_account_only_platform_agents_deploy(
    dev_key: tuple[Path, Path],
) -> None:
    settings = executor_settings(dev_key)
    assert (settings.artifact_repository, settings.build_timeout_s) == ("agora-tools", 600)
    resources = open_resources(settings, Needs())
    try:
        runtime = runtime_for(settings, resources)
        assert isinstance(runtime, CloudRunRuntime)
        assert runtime.builder is None
    finally:
        await close_resources(resources)


@pytest.mark.parametrize(
    "overrides",
    [{"build_timeout_s": 30}, {"build_timeout_s": 7200}, {"artifact_repository": "Agora/Tools"}],
)
def test_the_build_settings_are_bounded(
    dev_key: tuple[Path, Path], overrides: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        executor_settings(dev_key, **overrides)
