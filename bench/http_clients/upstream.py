"""The benchmark's upstream: a small JSON answer, served as the services serve (uvicorn)."""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agora_common.serve import UVICORN_OPTIONS

BODY = b'{"id":"agent-1","name":"bench","status":"active","tools":["a","b","c"]}' * 8


async def answer(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/r", answer, methods=["GET", "POST"])])

if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", **UVICORN_OPTIONS
    )
