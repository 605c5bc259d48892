"""Session-wide real servers: the emulator suite on free ports, started once per test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agora_devstack.emulators import EmulatorPorts, EmulatorSuite


@pytest.fixture(scope="session")
def emulator_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Firestore, the Firebase Auth emulator and Redis for this test run only."""
    suite = EmulatorSuite(
        EmulatorPorts.free(),
        project_id="demo-agora-test",
        log_dir=tmp_path_factory.mktemp("emulator-logs"),
    )
    with suite:
        yield suite.env()
