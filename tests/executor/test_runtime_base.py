"""The runtime interface's pure parts: service names, scrubbing, the spec's repr."""

from __future__ import annotations

import re

import pytest

from agora_executor.runtime.base import (
    MAX_SERVICE_NAME,
    REDACTED,
    DeployFailed,
    DeploySpec,
    scrub,
    service_name,
)

CLOUD_RUN_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize(
    "hash_id",
    [
        "abc123",
        "Xy_9-kLmNoPqRsTuVwXyZ0",  # a base64url id as the registry makes them
        "-_-_",
        "UPPER",
        "a" * 200,
        "9starts-with-a-digit",
        "ünïcode",
        "trailing-",
    ],
)
def test_service_name_is_a_valid_cloud_run_id(hash_id: str) -> None:
    name = service_name(hash_id)
    assert len(name) <= MAX_SERVICE_NAME
    assert CLOUD_RUN_NAME.fullmatch(name), name
    assert name.startswith("agent-")
    assert service_name(hash_id) == name  # stable


def test_service_name_keeps_the_lowercased_id_readable() -> None:
    assert service_name("Xy_9-kLmNoPqRsTuVwXyZ0").startswith("agent-xy-9-klmnopqrstuvwxyz0-")


@pytest.mark.parametrize(("one", "other"), [("AbC", "abc"), ("a_b", "a-b"), ("a" * 60, "a" * 61)])
def test_ids_that_fold_together_get_different_names(one: str, other: str) -> None:
    assert service_name(one) != service_name(other)


def test_an_empty_hash_id_is_refused() -> None:
    with pytest.raises(DeployFailed):
        service_name("")


def test_deploy_failed_is_a_502_with_its_own_code() -> None:
    error = DeployFailed()
    assert (error.status_code, error.code) == (502, "DEPLOY_FAILED")


def test_scrub_replaces_every_secret_longest_first() -> None:
    text = "token=supersecret and prefix=super and short=ab"
    assert scrub(text, ["super", "supersecret", "ab"]) == (
        f"token={REDACTED} and prefix={REDACTED} and short=ab"
    )


def test_the_spec_repr_hides_the_env_and_the_env_is_read_only() -> None:
    env = {"AGORA_AGENT_SECRET": "do-not-print-me"}
    spec = DeploySpec(agent_id="a1", hash_id="h1", image="img", env=env)
    env["AGORA_AGENT_SECRET"] = "changed later"
    assert "do-not-print-me" not in repr(spec)
    assert spec.env["AGORA_AGENT_SECRET"] == "do-not-print-me"
    with pytest.raises(TypeError):
        spec.env["X"] = "y"  # type: ignore[index]
