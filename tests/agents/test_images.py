"""Each agent's image recipe: pinned, non-root, and its uv layers build a working venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ["genesis", "quantflow"]


def _recipe(name: str) -> str:
    return (ROOT / "agents" / name / "Dockerfile").read_text()


@pytest.mark.parametrize("name", AGENTS)
def test_the_recipe_runs_the_agent_as_a_non_root_user_on_a_pinned_base(name: str) -> None:
    text = _recipe(name)
    assert re.search(r"^ARG PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim-\w+$", text, re.M)
    assert re.search(r"^COPY --from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ ", text, re.M)
    assert re.search(r"^USER 10001$", text, re.M)
    assert "PORT=8080" in text
    assert f'CMD ["python", "-m", "agora_{name}"]' in text
    assert "libs/common" not in text, "agents build on the SDK alone"


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
@pytest.mark.parametrize("name", AGENTS)
def test_the_layers_build_a_working_agent_venv(name: str, tmp_path: Path) -> None:
    syncs = re.findall(r"uv sync [^\n]+", _recipe(name).replace("\\\n", " "))
    first, second = (s.strip() for s in syncs)
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.pop("VIRTUAL_ENV", None)
    # Layer 1 sees only the root pyproject.toml and uv.lock.
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copy(ROOT / "uv.lock", tmp_path)
    subprocess.run(["sh", "-c", first], cwd=tmp_path, env=env, check=True, capture_output=True)
    # Layer 2 adds the SDK and the one agent, nothing else of the workspace.
    shutil.copytree(ROOT / "libs" / "agent-sdk", tmp_path / "libs" / "agent-sdk")
    shutil.copytree(ROOT / "agents" / name, tmp_path / "agents" / name)
    subprocess.run(["sh", "-c", second], cwd=tmp_path, env=env, check=True, capture_output=True)
    python = tmp_path / "venv" / "bin" / "python"
    probe = (
        f"import agora_{name}.agent, agora_agent_sdk; print(agora_agent_sdk.__file__)\n"
        "import importlib.util as u; print(u.find_spec('agora_common'))"
    )
    result = subprocess.run(
        [str(python), "-c", probe], cwd="/", capture_output=True, text=True, check=True
    )
    sdk_file, common = result.stdout.split()
    assert "site-packages" in sdk_file, "workspace packages are installed, not linked"
    assert common == "None", "the agent image carries no agora-common"
