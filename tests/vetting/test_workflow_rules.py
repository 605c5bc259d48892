"""Vetting's pure rules: verdicts, task names, and settings production refuses."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from agora_vetting.models import CheckResult
from agora_vetting.scanning import verdict_of
from agora_vetting.service import scan_id_for
from agora_vetting.settings import VettingSettings


def check(status: str, name: str = "x", **kw: object) -> CheckResult:
    return CheckResult(name=name, status=status, **kw)  # type: ignore[arg-type]


def test_findings_win_then_unfinished_checks_then_clean() -> None:
    assert verdict_of([check("ok"), check("skipped")]) == ("clean", None)
    assert verdict_of([check("ok"), check("timeout", "semgrep", reason="over 120 s")]) == (
        "inconclusive",
        "semgrep: over 120 s",
    )
    assert verdict_of([check("findings"), check("failed")])[0] == "findings"


def test_task_names_come_from_the_agent_and_its_card() -> None:
    digest = "ab" * 32
    assert scan_id_for("Abc_def", digest) == scan_id_for("Abc_def", digest)
    assert scan_id_for("Abc_def", digest) != scan_id_for("Abc_def", "cd" * 32)
    assert scan_id_for("Abc_def", digest, "123") != scan_id_for("Abc_def", digest)
    # Cloud Tasks task ids: letters, digits, hyphens and underscores only.
    assert all(c.isalnum() or c in "-_" for c in scan_id_for("A_b-C", digest, "9"))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"CLOUD_TASKS_EMULATOR_HOST": "127.0.0.1:8123"}, "CLOUD_TASKS_EMULATOR_HOST"),
        ({"local_task_credential": "x"}, "local_task_credential"),
        ({"egress_local_endpoints": ("127.0.0.1:8080",)}, "egress_local_endpoints"),
        ({"tasks_target_url": None}, "tasks_target_url"),
    ],
)
def test_production_refuses_local_only_settings(
    overrides: dict[str, object], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):  # the session's emulators are not what is tested here
        if name.endswith("_EMULATOR_HOST") or name.startswith("AGORA_"):
            monkeypatch.delenv(name)
    base: dict[str, object] = {
        "project_id": "agora-prod",
        "iam_audiences": ("https://vetting.example.com",),
        "tasks_target_url": "https://vetting.example.com",
    }
    with pytest.raises(ValidationError, match=reason):
        VettingSettings(**(base | overrides))


def test_cloud_tasks_identity_is_an_allowed_caller() -> None:
    settings = VettingSettings(env="local", project_id="demo-x")
    assert "agora-tasks-invoker@demo-x.iam.gserviceaccount.com" in settings.allowed_caller_emails
