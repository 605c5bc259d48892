"""CloudRunRuntime against a respx stand-in of the Cloud Run Admin API v2 (REST)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from agora_executor.runtime import (
    CloudRunConfig,
    CloudRunRuntime,
    DeployFailed,
    DeploySpec,
    service_name,
)

API = "https://run.googleapis.com/v2"
PARENT = "projects/agora-prod/locations/europe-west1"
HASH_ID = "Hx_42abcDEF"
NAME = service_name(HASH_ID)
SERVICE = f"{PARENT}/services/{NAME}"
OPERATION = f"{PARENT}/operations/op-123"
SECRET = "s3cr3t-agent-signing-key-value"
RUNTIME_SA = "agora-agent-runtime@agora-prod.iam.gserviceaccount.com"
EXECUTOR_SA = "agora-executor@agora-prod.iam.gserviceaccount.com"
URI = f"https://{NAME}-abcdefgh-ew.a.run.app"
FORBIDDEN_MEMBERS = (b"allUsers", b"allAuthenticatedUsers")


def make_config(**overrides: Any) -> CloudRunConfig:
    values: dict[str, Any] = {
        "project_id": "agora-prod",
        "region": "europe-west1",
        "runtime_service_account": RUNTIME_SA,
        "invoker_service_account": EXECUTOR_SA,
        "call_timeout_s": 5.0,
        "deploy_timeout_s": 5.0,
        "poll_initial_s": 0.01,
        "poll_max_s": 0.02,
    }
    values.update(overrides)
    return CloudRunConfig(**values)


def make_spec(**overrides: Any) -> DeploySpec:
    values: dict[str, Any] = {
        "agent_id": "agent-1",
        "hash_id": HASH_ID,
        "image": "europe-docker.pkg.dev/agora-prod/agents/quantflow:1.0.0",
        "env": {"AGORA_AGENT_HASH_ID": HASH_ID, "AGORA_AGENT_SECRET": SECRET},
    }
    values.update(overrides)
    return DeploySpec(**values)


def operation(done: bool, **fields: Any) -> httpx.Response:
    return httpx.Response(200, json={"name": OPERATION, "done": done, **fields})


def service_answer() -> httpx.Response:
    revision = f"{SERVICE}/revisions/{NAME}-00002-xyz"
    return httpx.Response(200, json={"name": SERVICE, "uri": URI, "latestReadyRevision": revision})


def google_error(status: int, name: str, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": status, "status": name, "message": message}}
    )


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """The Admin API; afterwards, no request may ever have opened the service to the public."""
    with respx.mock(base_url=API, assert_all_mocked=True, assert_all_called=False) as router:
        yield router
        for call in router.calls:
            assert call.request.headers["Authorization"] == "Bearer test-access-token"
            for member in FORBIDDEN_MEMBERS:
                assert member not in call.request.content


@pytest.fixture
async def runtime() -> AsyncIterator[CloudRunRuntime]:
    async def tokens() -> str:
        return "test-access-token"

    async with httpx.AsyncClient() as http:
        yield CloudRunRuntime(make_config(), http, tokens)


def body_of(route: respx.Route, index: int = 0) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(route.calls[index].request.content)
    return content


def mock_tail(api: respx.MockRouter) -> tuple[respx.Route, respx.Route]:
    """The operation (done on the second poll) and the IAM policy call."""
    poll = api.get(f"/{OPERATION}").mock(
        side_effect=[operation(False), operation(True, response={"name": SERVICE})]
    )
    iam = api.post(f"/{SERVICE}:setIamPolicy").mock(return_value=httpx.Response(200, json={}))
    return poll, iam


async def test_create_path(api: respx.MockRouter, runtime: CloudRunRuntime) -> None:
    read = api.get(f"/{SERVICE}").mock(side_effect=[httpx.Response(404), service_answer()])
    create = api.post(f"/{PARENT}/services", params={"serviceId": NAME}).mock(
        return_value=operation(False)
    )
    poll, iam = mock_tail(api)

    deployment = await runtime.deploy(make_spec())

    assert (deployment.agent_id, deployment.url, deployment.runtime) == (
        "agent-1",
        URI,
        "cloud-run",
    )
    assert deployment.revision == f"{NAME}-00002-xyz"
    assert (read.call_count, create.call_count, poll.call_count, iam.call_count) == (2, 1, 2, 1)
    body = body_of(create)
    assert body["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert body["invokerIamDisabled"] is False
    assert body["labels"]["agora-agent"] == NAME.removeprefix("agent-")
    template = body["template"]
    assert template["serviceAccount"] == RUNTIME_SA
    (container,) = template["containers"]
    assert container["image"] == make_spec().image
    assert {e["name"]: e["value"] for e in container["env"]} == dict(make_spec().env)


async def test_update_path(api: respx.MockRouter, runtime: CloudRunRuntime) -> None:
    api.get(f"/{SERVICE}").mock(side_effect=[service_answer(), service_answer()])
    create = api.post(f"/{PARENT}/services")
    update = api.patch(f"/{SERVICE}").mock(return_value=operation(True))
    iam = api.post(f"/{SERVICE}:setIamPolicy").mock(return_value=httpx.Response(200, json={}))

    deployment = await runtime.deploy(make_spec(image="europe-docker.pkg.dev/x/y/z:2"))

    assert deployment.url == URI
    assert not create.called
    assert body_of(update)["template"]["containers"][0]["image"] == "europe-docker.pkg.dev/x/y/z:2"
    assert iam.call_count == 1


async def test_a_create_race_falls_back_to_update(
    api: respx.MockRouter, runtime: CloudRunRuntime
) -> None:
    api.get(f"/{SERVICE}").mock(side_effect=[httpx.Response(404), service_answer()])
    api.post(f"/{PARENT}/services").mock(return_value=google_error(409, "ALREADY_EXISTS", "exists"))
    update = api.patch(f"/{SERVICE}").mock(return_value=operation(False))
    mock_tail(api)

    assert (await runtime.deploy(make_spec())).url == URI
    assert update.call_count == 1


async def test_the_iam_policy_grants_invoker_to_the_executor_only(
    api: respx.MockRouter, runtime: CloudRunRuntime
) -> None:
    api.get(f"/{SERVICE}").mock(side_effect=[httpx.Response(404), service_answer()])
    api.post(f"/{PARENT}/services").mock(return_value=operation(True))
    iam = api.post(f"/{SERVICE}:setIamPolicy").mock(return_value=httpx.Response(200, json={}))

    await runtime.deploy(make_spec())

    assert body_of(iam) == {
        "policy": {
            "bindings": [
                {"role": "roles/run.invoker", "members": [f"serviceAccount:{EXECUTOR_SA}"]}
            ]
        }
    }


@pytest.mark.parametrize("member", ["allUsers", "allAuthenticatedUsers", "user:me@example.com"])
def test_the_invoker_must_be_a_service_account(member: str) -> None:
    with pytest.raises(ValueError, match="service account"):
        make_config(invoker_service_account=member)


async def test_an_operation_that_ends_in_error(
    api: respx.MockRouter, runtime: CloudRunRuntime
) -> None:
    api.get(f"/{SERVICE}").mock(return_value=httpx.Response(404))
    api.post(f"/{PARENT}/services").mock(return_value=operation(False))
    failure = {
        "code": 9,
        "message": f"Revision failed to start; container printed {SECRET} and exited",
    }
    api.get(f"/{OPERATION}").mock(side_effect=[operation(False), operation(True, error=failure)])
    iam = api.post(f"/{SERVICE}:setIamPolicy")

    with pytest.raises(DeployFailed, match="Revision failed to start") as caught:
        await runtime.deploy(make_spec())

    assert SECRET not in str(caught.value)
    assert "[redacted]" in caught.value.message
    assert not iam.called


async def test_an_operation_past_the_deadline(api: respx.MockRouter) -> None:
    api.get(f"/{SERVICE}").mock(return_value=httpx.Response(404))
    api.post(f"/{PARENT}/services").mock(return_value=operation(False))
    poll = api.get(f"/{OPERATION}").mock(return_value=operation(False))

    async def tokens() -> str:
        return "test-access-token"

    async with httpx.AsyncClient() as http:
        runtime = CloudRunRuntime(make_config(deploy_timeout_s=0.2), http, tokens)
        with pytest.raises(DeployFailed, match=r"not finished within 0\.2 s"):
            await runtime.deploy(make_spec())
    assert poll.call_count >= 2  # it polled, with backoff, until the deadline


async def test_an_api_403(api: respx.MockRouter, runtime: CloudRunRuntime) -> None:
    message = "Permission 'run.services.get' denied on resource"
    api.get(f"/{SERVICE}").mock(return_value=google_error(403, "PERMISSION_DENIED", message))

    with pytest.raises(DeployFailed) as caught:
        await runtime.deploy(make_spec())

    error = caught.value
    assert (error.status_code, error.code) == (502, "DEPLOY_FAILED")
    assert "HTTP 403" in error.message
    assert "PERMISSION_DENIED" in error.message


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadTimeout("timed out"), "did not answer in time"),
        (httpx.ConnectError("refused"), "unreachable"),
    ],
)
async def test_timeouts_and_transport_errors(
    api: respx.MockRouter, runtime: CloudRunRuntime, failure: Exception, expected: str
) -> None:
    api.get(f"/{SERVICE}").mock(return_value=httpx.Response(404))
    api.post(f"/{PARENT}/services").mock(side_effect=failure)

    with pytest.raises(DeployFailed, match=expected):
        await runtime.deploy(make_spec())


async def test_every_call_carries_a_timeout(api: respx.MockRouter) -> None:
    seen: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(404)

    api.get(f"/{SERVICE}").mock(side_effect=record)
    api.post(f"/{PARENT}/services").mock(side_effect=httpx.ReadTimeout("slow"))

    async def tokens() -> str:
        return "test-access-token"

    # The client's own default is no timeout at all: the runtime must set one on every call.
    async with httpx.AsyncClient(timeout=None) as http:  # noqa: S113
        runtime = CloudRunRuntime(make_config(call_timeout_s=3.5), http, tokens)
        with pytest.raises(DeployFailed):
            await runtime.deploy(make_spec())
    assert seen == [{"connect": 3.5, "read": 3.5, "write": 3.5, "pool": 3.5}]


async def test_the_env_never_reaches_errors_or_logs(
    api: respx.MockRouter, runtime: CloudRunRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    """A 400 that quotes the request, then a success: the secret appears in neither."""
    caplog.set_level(logging.DEBUG)
    echo = f"env[1].value {SECRET!r} is invalid"
    api.get(f"/{SERVICE}").mock(
        side_effect=[httpx.Response(404), httpx.Response(404), service_answer()]
    )
    api.post(f"/{PARENT}/services").mock(
        side_effect=[google_error(400, "INVALID_ARGUMENT", echo), operation(True)]
    )
    api.post(f"/{SERVICE}:setIamPolicy").mock(return_value=httpx.Response(200, json={}))

    with pytest.raises(DeployFailed) as caught:
        await runtime.deploy(make_spec())
    await runtime.deploy(make_spec())

    error = caught.value
    texts = [str(error), repr(error), error.message, str(error.__cause__), repr(error.__cause__)]
    assert "INVALID_ARGUMENT" in error.message
    assert not [text for text in texts if SECRET in text]
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in json.dumps(vars(record), default=str)
    assert any(record.name == "agora.executor.runtime" for record in caplog.records)


async def test_reserved_env_and_missing_image_are_refused_before_any_call(
    api: respx.MockRouter, runtime: CloudRunRuntime
) -> None:
    with pytest.raises(DeployFailed, match="PORT"):
        await runtime.deploy(make_spec(env={"PORT": "9000", "AGORA_AGENT_SECRET": SECRET}))
    with pytest.raises(DeployFailed, match="no container image"):
        await runtime.deploy(make_spec(image=None))
    assert not api.calls


async def test_credentials_that_fail_become_deploy_failed(api: respx.MockRouter) -> None:
    async def tokens() -> str:
        raise RuntimeError("no default credentials found")

    async with httpx.AsyncClient() as http:
        runtime = CloudRunRuntime(make_config(), http, tokens)
        with pytest.raises(DeployFailed, match="no Google credentials"):
            await runtime.deploy(make_spec())
    assert not api.calls


async def test_the_public_url_is_known_up_front_with_the_project_number(
    api: respx.MockRouter,
) -> None:
    api.get(f"/{SERVICE}").mock(side_effect=[httpx.Response(404), service_answer()])
    create = api.post(f"/{PARENT}/services").mock(return_value=operation(True))
    api.post(f"/{SERVICE}:setIamPolicy").mock(return_value=httpx.Response(200, json={}))

    async def tokens() -> str:
        return "test-access-token"

    async with httpx.AsyncClient() as http:
        runtime = CloudRunRuntime(make_config(project_number="123456789"), http, tokens)
        await runtime.deploy(make_spec())
    env = {e["name"]: e["value"] for e in body_of(create)["template"]["containers"][0]["env"]}
    assert env["AGORA_AGENT_PUBLIC_URL"] == f"https://{NAME}-123456789.europe-west1.run.app"


async def test_undeploy_deletes_and_waits(api: respx.MockRouter, runtime: CloudRunRuntime) -> None:
    delete = api.delete(f"/{SERVICE}").mock(return_value=operation(False))
    poll = api.get(f"/{OPERATION}").mock(return_value=operation(True))

    await runtime.undeploy("agent-1", HASH_ID)

    assert (delete.call_count, poll.call_count) == (1, 1)


async def test_undeploy_of_a_missing_service_is_fine(
    api: respx.MockRouter, runtime: CloudRunRuntime
) -> None:
    api.delete(f"/{SERVICE}").mock(return_value=httpx.Response(404))
    await runtime.undeploy("agent-1", HASH_ID)
