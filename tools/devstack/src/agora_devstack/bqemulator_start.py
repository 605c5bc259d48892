"""Start the local BigQuery emulator (bqemulator) with DuckDB's spatial extension made optional.

Run as a script by the interpreter of the emulator's own environment (tools/bqemulator/.venv, see
tools/bqemulator/pyproject.toml), never imported: that environment has bqemulator but not
agora_devstack, and the workspace has agora_devstack but not bqemulator. Arguments are bqemulator's
CLI, e.g.

    tools/bqemulator/.venv/bin/python bqemulator_start.py start --rest-port 9050 --grpc-port 9060

bqemulator refuses to start unless DuckDB's spatial extension loads, and DuckDB downloads that
extension on first use, which fails offline. Here loading it is best-effort: when it fails, the
emulator starts anyway, without the GEOGRAPHY (ST_*) functions, and says so in its log.
"""

from __future__ import annotations

import json
from typing import Any


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def _make_spatial_optional() -> None:
    from bqemulator.storage import engine  # only in the emulator's env

    load_spatial = engine.DuckDBEngine._load_spatial

    def best_effort(self: Any) -> None:
        try:
            load_spatial(self)
        except Exception as error:  # any failure to load it means "no GEOGRAPHY", not "no emulator"
            note = {
                "event": "agora.spatial_skipped",
                "level": "warning",
                "detail": "DuckDB spatial extension unavailable; GEOGRAPHY functions disabled",
                "error": _first_line(error.__cause__ or error),
            }
            print(json.dumps(note), flush=True)

    engine.DuckDBEngine._load_spatial = best_effort  # type: ignore[method-assign]


def main() -> None:
    """Patch bqemulator, then run its CLI with this process's arguments."""
    _make_spatial_optional()
    from bqemulator.cli import main as bqemulator_main  # after the patch

    bqemulator_main(prog_name="bqemulator")


if __name__ == "__main__":
    main()
