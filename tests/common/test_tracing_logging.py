"""Trace context in and out, and JSON log lines that Cloud Logging understands."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from agora_common.app import create_service_app
from agora_common.logging import CloudJsonFormatter
from agora_common.tracing import TraceContext, parse_trace_headers, reset_trace, set_trace
from tests.common.conftest import DemoSettings
from tests.support.factories import local_settings_kwargs
from tests.support.servers import free_port, serving

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("traceparent", "cloud", "expected"),
    [
        (f"00-{TRACE}-00f067aa0ba902b7-01", None, (TRACE, "00f067aa0ba902b7", True)),
        (f"00-{TRACE.upper()}-00F067AA0BA902B7-00", None, (TRACE, "00f067aa0ba902b7", False)),
        (None, f"{TRACE}/1;o=1", (TRACE, "0000000000000001", True)),
        ("garbage", f"{TRACE}/255;o=0", (TRACE, "00000000000000ff", False)),
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", None, None),
        (f"00-{TRACE}-{'0' * 16}-01", None, None),
    ],
)
def test_parse_trace_headers(
    traceparent: str | None, cloud: str | None, expected: tuple[str, str, bool] | None
) -> None:
    ctx = parse_trace_headers(traceparent, cloud)
    if expected is None:
        assert ctx.trace_id != "0" * 32 and len(ctx.trace_id) == 32  # a fresh trace instead
    else:
        assert (ctx.trace_id, ctx.span_id, ctx.sampled) == expected


def test_a_log_line_carries_severity_message_and_trace() -> None:
    formatter = CloudJsonFormatter("registry", "agora-prod")
    record = logging.LogRecord("agora", logging.WARNING, __file__, 1, "hello %s", ("x",), None)
    record.agent_id = "a1"
    token = set_trace(TraceContext(TRACE, "00f067aa0ba902b7", True))
    try:
        entry = json.loads(formatter.format(record))
    finally:
        reset_trace(token)
    assert entry["severity"] == "WARNING"
    assert entry["message"] == "hello x"
    assert entry["logging.googleapis.com/trace"] == f"projects/agora-prod/traces/{TRACE}"
    assert entry["logging.googleapis.com/spanId"] == "00f067aa0ba902b7"
    assert entry["logging.googleapis.com/trace_sampled"] is True
    assert entry["agent_id"] == "a1"


def _app(dev_key: tuple[Path, Path], port: int, downstream: str | None) -> FastAPI:
    settings = DemoSettings(**local_settings_kwargs(*dev_key, f"http://127.0.0.1:{port}"))
    app = create_service_app(settings, title="trace-demo")

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        return {"traceparent": request.headers.get("traceparent")}

    @app.get("/call")
    async def call(request: Request) -> dict[str, str | None]:
        assert downstream is not None
        http: httpx.AsyncClient = request.app.state.resources.http
        return dict((await http.get(f"{downstream}/echo")).json())

    return app


def test_the_trace_is_propagated_on_outgoing_calls(
    dev_key: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    down_port, up_port = free_port(), free_port()
    with (
        serving(_app(dev_key, down_port, None), down_port) as down,
        serving(_app(dev_key, up_port, down), up_port) as up,
    ):
        response = httpx.get(f"{up}/call", headers={"X-Cloud-Trace-Context": f"{TRACE}/7;o=1"})
    sent = response.json()["traceparent"]
    version, trace, span, flags = sent.split("-")
    assert (version, trace, flags) == ("00", TRACE, "01")
    assert span != f"{7:016x}", "an outgoing call gets its own span id"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "{" in line]
    requests = [e for e in lines if e.get("logger") == "agora.request"]
    assert {e["trace_id"] for e in requests} == {TRACE}
    assert {e["httpRequest"]["requestUrl"] for e in requests} == {"/call", "/echo"}
