#!/usr/bin/env bash
# Installs what `make dev` and `make test` need on a fresh machine, and nothing already present:
# uv, the Python workspace (from uv.lock), the BigQuery and Cloud Tasks emulators' own environments
# (from tools/bqemulator/uv.lock and tools/cloudtasks/uv.lock), the pinned npm packages, and
# redis-server and Chromium (for the console's browser tests).
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

command -v node >/dev/null 2>&1 || die "Node.js 20+ is required for the Firebase emulators and the console"
npm_ci() {  # npm_ci <folder> <what>: npm ci there unless its node_modules already match the lock
  local lock="$1/package-lock.json" installed="$1/node_modules/.package-lock.json"
  if [ ! -f "$installed" ] || { ! cmp -s "$lock" "$installed" && [ "$lock" -nt "$installed" ]; }; then
    say "installing $2 (first time: a few minutes)"
    npm ci --prefix "$1" --no-audit --no-fund --loglevel=error
  fi
}
npm_ci . "the emulator npm packages"
npm_ci web "the web console's npm packages"

apt_install() {  # apt_install <command> <package> <why>
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $2 from Debian's packages ($3)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    die "$2 is missing ($3): install it (e.g. 'sudo apt-get install $2')"
  fi
}
apt_install redis-server redis-server "the rate limits and caches"
apt_install chromium chromium "the console's browser tests"
