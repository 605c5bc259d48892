"""The image recipe's uv steps, run for real the way each Docker layer sees the source tree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "services" / "Dockerfile"


def _uv_syncs() -> list[str]:
    """The `uv sync ...` commands of services/Dockerfile, in order, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [m.group(0).strip() for m in re.finditer(r"uv sync [^\n]+", text)]


def test_the_recipe_runs_as_a_non_root_user_on_a_pinned_base() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim-\w+$", text, re.M)
    assert re.search(r"^USER 10001$", text, re.M)
    assert "ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PORT=8080" in text


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_the_layers_build_a_working_service_venv(tmp_path: Path) -> None:
    first, second = _uv_syncs()[:2]
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"),
        "UV_PYTHON_DOWNLOADS": "never",
        "SERVICE": "registry",
    }
    env.pop("VIRTUAL_ENV", None)
    # Layer 1 sees only the root pyproject.toml and uv.lock.
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copy(ROOT / "uv.lock", tmp_path)
    subprocess.run(["sh", "-c", first], cwd=tmp_path, env=env, check=True, capture_output=True)
    # Layer 2 adds libs/common and the one service.
    shutil.copytree(ROOT / "libs" / "common", tmp_path / "libs" / "common")
    shutil.copytree(ROOT / "services" / "registry", tmp_path / "services" / "registry")
    subprocess.run(["sh", "-c", second], cwd=tmp_path, env=env, check=True, capture_output=True)
    python = tmp_path / "venv" / "bin" / "python"
    probe = "import agora_registry.app, agora_common; print(agora_common.__file__)"
    result = subprocess.run(
        [str(python), "-c", probe], cwd="/", capture_output=True, text=True, check=True
    )
    assert "site-packages" in result.stdout, "workspace packages are installed, not linked"


def test_the_vetting_image_carries_semgrep_and_its_rules() -> None:
    """Vetting's static checks need semgrep (own locked environment) and the project's rules."""
    text = DOCKERFILE.read_text()
    syncs = _uv_syncs()
    assert any("--project tools/semgrep" in command for command in syncs)
    assert "services/vetting/semgrep/rules.yml" in text
    assert "AGORA_SEMGREP_BIN=/app/extras/semgrep/bin/semgrep" in text
    assert "AGORA_SEMGREP_RULES=/app/extras/semgrep-rules.yml" in text
    # The tests check runs packages' tests with the service's Python: the SDK they may import.
    assert "COPY libs/agent-sdk libs/agent-sdk" in text
