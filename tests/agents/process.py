"""Run an agent for real, as its container does: `python -m <module>` with PORT and a secret."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agora_agent_sdk import sign_request
from tests.support.servers import free_port

HASH_ID = "agents-test_hash1"
SECRET = "agents-test-secret-0123456789"
PROVIDER_KEY = "sk-agents-test-provider-key"


@dataclass(frozen=True)
class RunningAgent:
    url: str
    log: Path

    def call(self, tool: str, payload: Any, *, signed: bool = True) -> httpx.Response:
        """POST /execute as the platform's executor does (or unsigned)."""
        body = json.dumps(
            {
                "tool_name": tool,
                "payload": payload,
                "context": {
                    "execution_id": f"exec-{time.monotonic_ns()}",
                    "caller_uid": "user-1",
                    "provider_keys": {"openai": PROVIDER_KEY},
                },
            }
        ).encode()
        headers = {"content-type": "application/json"}
        if signed:
            headers |= sign_request(SECRET, HASH_ID, body)
        return httpx.post(f"{self.url}/execute", content=body, headers=headers, timeout=10)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the agent exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the agent did not become healthy:\n{log.read_text()}")


@contextmanager
def run_agent(module: str, log: Path) -> Iterator[RunningAgent]:
    """The agent in its own process on a free loopback port; stopped with SIGTERM afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_AGENT_")}
    env |= {
        "PORT": str(port),
        "AGORA_AGENT_HOST": "127.0.0.1",
        "AGORA_AGENT_HASH_ID": HASH_ID,
        "AGORA_AGENT_SECRET": SECRET,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, url, log)
        yield RunningAgent(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says why it ended.
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()
