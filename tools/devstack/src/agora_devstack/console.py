"""The web console served locally as Firebase Hosting serves it: `web/dist`, `firebase.json`'s
headers, every unknown path falling back to `index.html`, and `/config.json` for this run.

`make dev` runs it at http://localhost:5000; the browser tests serve it on a free port. The
console calls the gateway at the config's `apiBase` (CORS allows this origin in local mode),
and signs in against the Auth emulator.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from agora_devstack.emulators import repo_root

DIST = repo_root() / "web" / "dist"
FIREBASE_JSON = repo_root() / "firebase.json"
DEFAULT_PORT = 5000


def console_config(
    gateway: str, auth_emulator: str, project_id: str, *, dashboard_refresh_ms: int = 5000
) -> dict[str, Any]:
    """`/config.json` for a local run: the gateway's origin and the Auth emulator's."""
    return {
        "apiBase": gateway.rstrip("/"),
        "firebase": {"apiKey": "demo-key", "authDomain": "localhost", "projectId": project_id},
        "authEmulator": f"http://{auth_emulator}",
        "dashboardRefreshMs": dashboard_refresh_ms,
    }


def hosting_headers(firebase_json: Path = FIREBASE_JSON) -> list[tuple[str, dict[str, str]]]:
    """`hosting.headers` of firebase.json as (glob, headers), in their order."""
    hosting = json.loads(firebase_json.read_text())["hosting"]
    return [
        (rule["source"], {h["key"]: h["value"] for h in rule["headers"]})
        for rule in hosting.get("headers", [])
    ]


def _glob(pattern: str) -> re.Pattern[str]:
    """A Hosting glob (`**`, `*`) as a regular expression over the request path."""
    return re.compile(fnmatch.translate(pattern.replace("**", "*")))


def with_connect_sources(policy: str, origins: Sequence[str]) -> str:
    """The CSP with `origins` added to `connect-src` (the local gateway and Auth emulator)."""
    if not origins:
        return policy
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    extra = " ".join(origins)
    for index, directive in enumerate(directives):
        if directive.startswith("connect-src"):
            directives[index] = f"{directive} {extra}"
            break
    else:
        directives.append(f"connect-src 'self' {extra}")
    return "; ".join(directives)


class Hosting:
    """Headers for a path: every matching rule applies in order, a later one overriding."""

    def __init__(self, rules: list[tuple[str, dict[str, str]]], connect: Sequence[str]) -> None:
        self.rules = [(_glob(source), headers) for source, headers in rules]
        self.connect = tuple(connect)

    def headers_for(self, path: str) -> dict[str, str]:
        headers: dict[str, str] = {}
        for pattern, values in self.rules:
            if pattern.match(path):
                headers.update(values)
        if "Content-Security-Policy" in headers:
            policy = headers["Content-Security-Policy"]
            headers["Content-Security-Policy"] = with_connect_sources(policy, self.connect)
        return headers


def create_console_app(
    config: Mapping[str, Any],
    *,
    dist: Path = DIST,
    firebase_json: Path = FIREBASE_JSON,
) -> Starlette:
    """Serve `dist` with `config` as `/config.json`."""
    root = dist.resolve()
    index = root / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"{index} is missing: build the console first (make web-build)")
    origins = [str(config["apiBase"])] + (
        [str(config["authEmulator"])] if "authEmulator" in config else []
    )
    hosting = Hosting(hosting_headers(firebase_json), [o for o in origins if o])

    async def config_json(request: Request) -> Response:
        headers = hosting.headers_for(request.url.path) | {"Cache-Control": "no-store"}
        return JSONResponse(dict(config), headers=headers)

    async def static(request: Request) -> Response:
        path = request.url.path
        candidate = (root / path.lstrip("/")).resolve()
        found = candidate.is_file() and candidate.is_relative_to(root)
        if not found and path.startswith("/assets/"):
            # A hashed asset that is not there is a 404, never the page (a stale tab must not
            # parse HTML as JavaScript).
            return Response("Not found", status_code=404, headers=hosting.headers_for(path))
        served = candidate if found else index
        shown = path if found else "/index.html"
        return FileResponse(served, headers=hosting.headers_for(shown))

    return Starlette(
        routes=[
            Route("/config.json", config_json, methods=["GET", "HEAD"]),
            Route("/{path:path}", static, methods=["GET", "HEAD"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agora_devstack.console", description="Serve the built web console."
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--gateway", required=True, help="the gateway's origin")
    parser.add_argument("--auth-emulator", required=True, help="host:port of the Auth emulator")
    parser.add_argument("--project", required=True)
    args = parser.parse_args(argv)
    app = create_console_app(console_config(args.gateway, args.auth_emulator, args.project))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
