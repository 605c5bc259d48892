"""Session-wide real servers: the emulator suite on free ports, started once per test run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agora_devstack.emulators import EmulatorPorts, EmulatorSuite
from tests.support.factories import make_dev_key


@pytest.fixture(scope="session")
def emulator_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Every emulator (Firestore, Firebase Auth, BigQuery, Cloud Tasks, Cloud Storage, Redis) for
    this test run.

    The env points clients at them: FIRESTORE_EMULATOR_HOST, FIREBASE_AUTH_EMULATOR_HOST,
    BIGQUERY_EMULATOR_HOST, CLOUD_TASKS_EMULATOR_HOST, STORAGE_EMULATOR_HOST (its bucket is
    agora_devstack.emulators.SOURCE_BUCKET), REDIS_URL and GOOGLE_CLOUD_PROJECT.
    """
    suite = EmulatorSuite(
        EmulatorPorts.free(),
        project_id="demo-agora-test",
        log_dir=tmp_path_factory.mktemp("emulator-logs"),
    )
    with suite:
        yield suite.env()


@pytest.fixture(scope="session")
def dev_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The local signing key of this test run and its published JWKS."""
    return make_dev_key(tmp_path_factory.mktemp("iam"))
