"""A redeploy whose revision fails the probe leaves the previous revision serving (local runtime).

The executor of this module runs agents from a copy of Genesis that the test can change between
deploys, as an owner's new revision would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agora_common.models import CallerKind, UserIdentity
from agora_devstack.agents import local_agent, registration_card
from agora_devstack.emulators import repo_root
from tests.e2e.conftest import Stack, copy_source, unique_name
from tests.e2e.test_execute import call
from tests.support.firebase import EmulatorUser
from tests.support.servers import free_port

pytestmark = pytest.mark.integration
TEXT = {"text": "A failed redeploy must not take a serving agent down."}


@pytest.fixture
def agents_root(tmp_path: Path) -> Path:
    root = tmp_path / "agents"
    copy_source(repo_root() / "agents" / "genesis", root / "genesis")
    return root


@pytest.fixture
def executor(stack: Stack, agents_root: Path) -> Iterator[str]:
    with stack.serve_executor(port=free_port(), local_agents_root=agents_root) as url:
        yield url


def deploy(stack: Stack, executor: str, agent_id: str) -> httpx.Response:
    headers = stack.as_service("vetting", executor)
    body = {"agent_id": agent_id}
    return httpx.post(f"{executor}/deploy", json=body, headers=headers, timeout=90)


def execute(stack: Stack, executor: str, user: EmulatorUser, agent_id: str) -> httpx.Response:
    who = UserIdentity(kind=CallerKind.USER, uid=user.uid, email=user.email)
    body: dict[str, Any] = {"agent_id": agent_id, "tool_name": "text_statistics", "payload": TEXT}
    headers = stack.as_service("gateway", executor, who)
    return httpx.post(f"{executor}/execute", json=body, headers=headers, timeout=60)


def test_a_redeploy_that_fails_its_probe_leaves_the_old_revision_serving(
    stack: Stack, people: dict[str, EmulatorUser], agents_root: Path, executor: str
) -> None:
    owner, user = people["owner"], people["other"]
    body = registration_card(local_agent("genesis"), "genesis")
    body["name"] = unique_name("Genesis")
    registered = call(stack, "POST", "/agents/register", owner, json=body)
    assert registered.status_code == 201, registered.text
    agent_id = registered.json()["id"]
    stack.set_status(agent_id, "vetted")
    first = deploy(stack, executor, agent_id)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "active"
    served = execute(stack, executor, user, agent_id)
    assert served.status_code == 200, served.text

    # The owner's next revision no longer serves `summarize`, which the vetted card declares.
    source = agents_root / "genesis" / "src" / "agora_genesis" / "agent.py"
    code = source.read_text()
    assert "def summarize(" in code
    source.write_text(code.replace("def summarize(", "def summarize_elsewhere("))

    refused = deploy(stack, executor, agent_id)

    assert refused.status_code == 502, refused.text
    error = refused.json()["error"]
    assert error["code"] == "DEPLOY_PROBE_FAILED"
    assert [d.get("missing") for d in error["details"]] == [["summarize"]]
    assert call(stack, "GET", f"/agents/{agent_id}", owner).json()["status"] == "active"
    # The previous revision still serves, still signed with the secret it was started with.
    again = execute(stack, executor, user, agent_id)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "succeeded"
    assert again.json()["result"] == served.json()["result"]
