"""docker-compose.emulators.yml, the launcher's twin for machines with Docker, agrees with it.

Docker is not needed: the file is read, not run.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from agora_devstack.emulators import (
    CLOUDTASKS_MAX_RETRIES,
    EMULATORS,
    SOURCE_BUCKET,
    EmulatorPorts,
    EmulatorSuite,
    repo_root,
)

COMPOSE_FILE = repo_root() / "docker-compose.emulators.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def _published(service: dict[str, Any]) -> set[tuple[str, int, int]]:
    """(host address, host port, container port) of each published port."""
    found = set()
    for entry in service.get("ports", []):
        address, host, container = str(entry).split(":")
        found.add((address, int(host), int(container)))
    return found


def test_every_emulator_has_a_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= set(EMULATORS)


@pytest.mark.parametrize("name", list(EMULATORS))
def test_ports_are_the_launchers_on_loopback_only(compose: dict[str, Any], name: str) -> None:
    defaults = EmulatorPorts()
    # The Firebase hub and logging ports stay inside the container; every other port is published.
    expected = {
        getattr(defaults, port_field)
        for port_field in EMULATORS[name].port_fields
        if port_field not in {"hub", "logging"}
    }
    published = _published(compose["services"][name])
    assert published == {("127.0.0.1", port, port) for port in expected}


def test_header_exports_are_what_the_launcher_prints() -> None:
    header = re.findall(r"^#\s+export (\w+)=(\S+)$", COMPOSE_FILE.read_text(), re.MULTILINE)
    assert dict(header) == EmulatorSuite(project_id="demo-agora").env()


def mounted_files(service: dict[str, Any]) -> dict[str, str]:
    """The repository files a service mounts, each read-only: source -> path in the container."""
    files = {}
    for volume in service["volumes"]:
        source, target, *mode = str(volume).split(":")
        if source.startswith("./"):
            assert mode == ["ro"], volume
            assert (repo_root() / source).is_file(), source
            files[source] = target
    return files


def test_bigquery_runs_the_launchers_environment_and_start_script(
    compose: dict[str, Any],
) -> None:
    service = compose["services"]["bigquery"]
    files = mounted_files(service)
    script = "./tools/devstack/src/agora_devstack/bqemulator_start.py"
    assert set(files) == {script, "./tools/bqemulator/pyproject.toml", "./tools/bqemulator/uv.lock"}
    command = " ".join(service["command"])
    assert "uv sync --frozen" in command  # the versions of tools/bqemulator/uv.lock
    assert f"python {files[script]} start" in command
    # Bound to every interface inside the container, or the published ports reach nothing.
    for flag in ("--rest-host 0.0.0.0", "--grpc-host 0.0.0.0"):
        assert flag in command
    ports = EmulatorPorts()
    assert f"--rest-port {ports.bigquery}" in command
    assert f"--grpc-port {ports.bigquery_grpc}" in command


def test_tasks_runs_the_launchers_environment_and_start_script(compose: dict[str, Any]) -> None:
    service = compose["services"]["tasks"]
    files = mounted_files(service)
    script = "./tools/devstack/src/agora_devstack/cloudtasks_start.py"
    assert set(files) == {script, "./tools/cloudtasks/pyproject.toml", "./tools/cloudtasks/uv.lock"}
    command = " ".join(service["command"])
    assert "uv sync --frozen" in command  # the versions of tools/cloudtasks/uv.lock
    assert f"python {files[script]} " in command
    # Bound to every interface inside the container, or the published port reaches nothing.
    assert "--host 0.0.0.0" in command
    assert f"--port {EmulatorPorts().tasks}" in command
    # Retries come at once: the same cap as the launcher's.
    assert f"--max-retries {CLOUDTASKS_MAX_RETRIES}" in command


def test_storage_runs_the_launchers_version_and_start_script(compose: dict[str, Any]) -> None:
    service = compose["services"]["storage"]
    files = mounted_files(service)
    script = "./tools/devstack/src/agora_devstack/gcs_start.py"
    assert set(files) == {script}
    command = " ".join(service["command"])
    # No lock of its own (a workspace dependency): the pip pin is the version uv.lock holds.
    lock = (repo_root() / "uv.lock").read_text()
    locked = re.search(r'name = "gcp-storage-emulator"\nversion = "([^"]+)"', lock)
    assert locked is not None
    assert f"pip install --quiet gcp-storage-emulator=={locked[1]}" in command
    assert f"python {files[script]} " in command
    assert "--host 0.0.0.0" in command
    assert f"--port {EmulatorPorts().storage}" in command
    assert f"--bucket {SOURCE_BUCKET}" in command
