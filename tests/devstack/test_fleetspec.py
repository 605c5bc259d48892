"""The one description of the local fleet: peers from allowlists, settings and env that agree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agora_auth.settings import AuthSettings
from agora_devstack.emulators import SOURCE_BUCKET
from agora_devstack.fleetspec import SERVICES, SOURCE_BUCKET_USERS, DevKey, LocalFleet
from agora_vetting.settings import VettingSettings

EMULATORS = {
    "GOOGLE_CLOUD_PROJECT": "demo-agora-spec",
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:18200",
    "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:19099",
    "BIGQUERY_EMULATOR_HOST": "127.0.0.1:19050",
    "CLOUD_TASKS_EMULATOR_HOST": "127.0.0.1:18123",
    "STORAGE_EMULATOR_HOST": "http://127.0.0.1:19023",
    "REDIS_URL": "redis://127.0.0.1:16379/0",
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> LocalFleet:
    key = DevKey.make(tmp_path_factory.mktemp("iam"))
    ports = {name: 18080 + index for index, name in enumerate(SERVICES)}
    return LocalFleet(
        EMULATORS, ports, key, tmp_path_factory.mktemp("state"), project_id="demo-agora-spec"
    )


def test_peers_are_the_running_services_that_allow_the_caller(fleet: LocalFleet) -> None:
    assert set(fleet.settings_for("executor").service_urls) == {"registry", "auth", "analytics"}
    assert set(fleet.settings_for("gateway").service_urls) == set(SERVICES) - {"gateway"}
    alone = LocalFleet(EMULATORS, {"executor": 1, "auth": 2}, fleet.key, fleet.state_dir)
    assert alone.settings_for("executor").service_urls == {"auth": "http://127.0.0.1:2"}


@pytest.mark.parametrize("name", list(SERVICES))
def test_a_subprocess_env_describes_the_same_settings_as_in_process(
    name: str, fleet: LocalFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in list(os.environ):
        if variable.startswith("AGORA_") or variable.endswith("_EMULATOR_HOST"):
            monkeypatch.delenv(variable)
    env = fleet.env_for(name)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    from_env = SERVICES[name]()  # read back from the environment, as the subprocess would
    assert from_env.model_dump() == fleet.settings_for(name).model_dump()
    assert from_env.is_local
    assert env["PORT"] == str(fleet.ports[name])


def test_every_emulator_a_service_can_use_is_set(fleet: LocalFleet) -> None:
    vetting = fleet.settings(VettingSettings)
    assert vetting.firestore_emulator_host == EMULATORS["FIRESTORE_EMULATOR_HOST"]
    assert vetting.cloud_tasks_emulator_host == EMULATORS["CLOUD_TASKS_EMULATOR_HOST"]
    assert vetting.redis_url == EMULATORS["REDIS_URL"]
    analytics = fleet.settings_for("analytics")
    assert getattr(analytics, "bigquery_emulator_host", None) == EMULATORS["BIGQUERY_EMULATOR_HOST"]


def test_the_services_that_keep_sources_get_the_emulators_bucket(fleet: LocalFleet) -> None:
    # The executor's local runtime unpacks submitted packages from the bucket to run them.
    assert set(SOURCE_BUCKET_USERS) == {"tool", "vetting", "executor"}
    for name in SERVICES:
        settings = fleet.settings_for(name)
        assert settings.storage_emulator_host == EMULATORS["STORAGE_EMULATOR_HOST"]
        assert settings.source_bucket == (SOURCE_BUCKET if name in SOURCE_BUCKET_USERS else None)
    assert fleet.env_for("tool")["AGORA_TOOL_SOURCE_BUCKET"] == SOURCE_BUCKET
    assert fleet.env_for("vetting")["AGORA_VETTING_SOURCE_BUCKET"] == SOURCE_BUCKET
    assert fleet.env_for("executor")["AGORA_EXECUTOR_SOURCE_BUCKET"] == SOURCE_BUCKET
    # No emulator in the run: no bucket, rather than one the services would look for on Google.
    without = {k: v for k, v in EMULATORS.items() if k != "STORAGE_EMULATOR_HOST"}
    alone = LocalFleet(without, fleet.ports, fleet.key, fleet.state_dir)
    assert alone.settings_for("tool").source_bucket is None


def test_run_state_stays_in_the_state_dir_and_the_task_credential_is_the_fleets(
    fleet: LocalFleet,
) -> None:
    assert fleet.settings(AuthSettings).local_kek_path.is_relative_to(fleet.state_dir)
    vetting = fleet.settings(VettingSettings)
    assert vetting.tasks_target_url == fleet.url("vetting")
    moved = fleet.moved(vetting=1).settings(VettingSettings)
    assert moved.tasks_target_url == "http://127.0.0.1:1"
    assert vetting.local_task_credential is not None
    assert moved.local_task_credential == vetting.local_task_credential


def test_overrides_win_and_a_misspelt_one_is_refused(fleet: LocalFleet, tmp_path: Path) -> None:
    """The settings classes ignore unknown names: a typo would silently keep the default."""
    kek = tmp_path / "kek.json"
    assert fleet.settings(AuthSettings, local_kek_file=kek).local_kek_path == kek
    with pytest.raises(TypeError, match="kek_file"):
        fleet.settings(AuthSettings, kek_file=kek)
    assert fleet.env_for("gateway", log_level="WARNING")["AGORA_GATEWAY_LOG_LEVEL"] == "WARNING"
