#!/usr/bin/env bash
# Installs what `make dev` and `make test` need on a fresh machine, and nothing already present:
# uv, the Python workspace (from uv.lock), the BigQuery and Cloud Tasks emulators' own environments
# (from tools/bqemulator/uv.lock and tools/cloudtasks/uv.lock), the pinned npm packages, and
# redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION="0.13.9"

say() { printf '==> %s\n' "$*"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

if ! command -v uv >/dev/null 2>&1; then
  command -v python3 >/dev/null 2>&1 || die "python3 (>= 3.11) is required"
  say "installing uv ${UV_VERSION} from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}" \
    || python3 -m pip install --quiet --user --disable-pip-version-check "uv==${UV_VERSION}" \
    || die "could not install uv; install it (https://docs.astral.sh/uv/) and retry"
  export PATH="${HOME}/.local/bin:${PATH}"
fi

say "syncing the Python workspace from uv.lock"
UV_PYTHON_DOWNLOADS=never uv sync --frozen --quiet

# Not a workspace member: its dependencies clash with the workspace's (see its pyproject.toml).
# The sync is a no-op once tools/bqemulator/.venv matches the lock.
say "syncing the BigQuery emulator's environment from tools/bqemulator/uv.lock"
UV_PYTHON_DOWNLOADS=never uv sync --frozen --quiet --project tools/bqemulator
UV_PYTHON_DOWNLOADS=never uv sync --frozen --quiet --project tools/semgrep

# Likewise: gcloud-tasks-emulator pins protobuf<5 (see tools/cloudtasks/pyproject.toml).
say "syncing the Cloud Tasks emulator's environment from tools/cloudtasks/uv.lock"
UV_PYTHON_DOWNLOADS=never uv sync --frozen --quiet --project tools/cloudtasks

command -v node >/dev/null 2>&1 || die "Node.js 20+ is required for the Firebase emulators"
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null \
   && [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing the emulator npm packages (first time: a few minutes)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    die "redis-server is missing: install it (e.g. 'sudo apt-get install redis-server')"
  fi
fi
