"""`/config.json` for the deployed console, printed for `make deploy-web`.

In production the console calls `/api/**` on its own origin (Hosting rewrites it to the gateway)
and signs in with the project's Firebase web config: `PROJECT_ID`, `FIREBASE_API_KEY` and
optionally `FIREBASE_AUTH_DOMAIN` (default `<project>.firebaseapp.com`).
"""

from __future__ import annotations

import json
import os
import sys


def production_config(environ: dict[str, str]) -> dict[str, object]:
    project = environ["PROJECT_ID"]
    return {
        "apiBase": "",
        "firebase": {
            "apiKey": environ["FIREBASE_API_KEY"],
            "authDomain": environ.get("FIREBASE_AUTH_DOMAIN") or f"{project}.firebaseapp.com",
            "projectId": project,
        },
        "dashboardRefreshMs": 5000,
    }


def main() -> int:
    missing = [name for name in ("PROJECT_ID", "FIREBASE_API_KEY") if not os.environ.get(name)]
    if missing:
        print(f"web_config: set {', '.join(missing)}", file=sys.stderr)
        return 2
    print(json.dumps(production_config(dict(os.environ)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
