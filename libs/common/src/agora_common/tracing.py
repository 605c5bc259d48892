"""Trace context: W3C traceparent and Cloud Run's X-Cloud-Trace-Context, in and out."""

from __future__ import annotations

import random
import re
from contextvars import ContextVar
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d{1,20}))?(?:;o=([01]))?$")
_ZERO_TRACE = "0" * 32


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    sampled: bool = False

    def child(self) -> TraceContext:
        """The context an outgoing call carries: same trace, a fresh span."""
        return TraceContext(self.trace_id, new_span_id(), self.sampled)

    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"


_current: ContextVar[TraceContext | None] = ContextVar("agora_trace", default=None)


# Trace ids need to be unique, not secret: a PRNG instead of an os.urandom syscall per request.
_random = random.Random()  # noqa: S311


def new_trace_id() -> str:
    return f"{_random.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{_random.getrandbits(64) or 1:016x}"


def parse_trace_headers(traceparent: str | None, cloud_trace: str | None) -> TraceContext:
    """Accept a valid traceparent first, then X-Cloud-Trace-Context, else start a new trace."""
    if traceparent:
        match = _TRACEPARENT.match(traceparent.strip().lower())
        if match and match.group(1) != _ZERO_TRACE and match.group(2) != "0" * 16:
            return TraceContext(match.group(1), match.group(2), int(match.group(3), 16) & 1 == 1)
    if cloud_trace:
        match = _CLOUD_TRACE.match(cloud_trace.strip())
        if match and match.group(1) != _ZERO_TRACE:
            span = int(match.group(2) or 0) & 0xFFFFFFFFFFFFFFFF
            span_id = f"{span:016x}" if span else new_span_id()
            return TraceContext(match.group(1).lower(), span_id, match.group(3) == "1")
    return TraceContext(new_trace_id(), new_span_id())


def current_trace() -> TraceContext | None:
    return _current.get()


def current_trace_id() -> str:
    ctx = _current.get()
    return ctx.trace_id if ctx else ""


def set_trace(ctx: TraceContext | None) -> object:
    return _current.set(ctx)


def reset_trace(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def outgoing_trace_headers() -> dict[str, str]:
    """Headers that carry the current trace to another service."""
    ctx = _current.get()
    if ctx is None:
        return {}
    child = ctx.child()
    return {"traceparent": child.traceparent()}
