"""Every service's app factory: health, readiness against real emulators, closed internals."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import httpx
import pytest

from agora_common.settings import ServiceSettings
from agora_devstack.fleet import SERVICES
from tests.support.factories import local_fleet, local_settings_kwargs
from tests.support.servers import free_port, serving


def _serve(name: str, dev_key: tuple[Path, Path], **overrides: object):  # type: ignore[no-untyped-def]
    port = free_port()
    settings_cls: type[ServiceSettings] = SERVICES[name]
    settings = settings_cls(
        **local_settings_kwargs(*dev_key, f"http://127.0.0.1:{port}", **overrides)
    )
    create_app = importlib.import_module(f"agora_{name}.app").create_app
    return serving(create_app(settings), port)


@pytest.mark.integration
@pytest.mark.parametrize("name", list(SERVICES))
def test_each_service_is_ready_on_the_emulators(
    name: str, dev_key: tuple[Path, Path], emulator_env: dict[str, str]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Alone on the emulators, as the fleet would run it: no peer is running.
    fleet = local_fleet(dev_key, emulator_env, "demo-agora-test", **{name: url})
    settings = fleet.settings_for(name)
    create_app = importlib.import_module(f"agora_{name}.app").create_app
    with serving(create_app(settings), port):
        assert httpx.get(f"{url}/healthz").status_code == 200
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"].values()) == {"ok"}
        assert httpx.get(f"{url}/internal/whoami").status_code == 401
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == f"Agora {name}"


def test_readiness_fails_fast_and_names_the_dead_dependencies(dev_key: tuple[Path, Path]) -> None:
    with _serve("registry", dev_key) as url:  # Firestore and Redis on closed ports
        started = time.monotonic()
        response = httpx.get(f"{url}/readyz", timeout=10)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "NOT_READY"
    assert {d["dependency"] for d in error["details"]} == {"firestore", "redis"}
    assert elapsed < 3.0, "readiness is bounded by the dependency timeout"


def test_a_firestore_outage_is_a_fast_503(dev_key: tuple[Path, Path]) -> None:
    """Storage down: an explicit 503 within the dependency budget, not a minute of retries."""
    from tests.support.factories import signer_for

    with _serve("registry", dev_key) as url:  # Firestore on a closed port
        token = signer_for(dev_key[0], "gateway").sign(url)
        started = time.monotonic()
        response = httpx.get(f"{url}/some-agent", headers={"authorization": f"Bearer {token}"})
        elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert elapsed < 4.0
