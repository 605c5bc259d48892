"""Structured JSON logs that Cloud Logging understands, carrying the request's trace."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from agora_common.tracing import current_trace

# LogRecord attributes that are not user-supplied `extra` fields.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class CloudJsonFormatter(logging.Formatter):
    """One JSON object per line with `severity`, `message` and the Cloud Logging trace fields."""

    def __init__(self, service: str, project_id: str) -> None:
        super().__init__()
        self.service = service
        self.project_id = project_id

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            "service": self.service,
        }
        ctx = current_trace()
        if ctx is not None:
            entry["logging.googleapis.com/trace"] = (
                f"projects/{self.project_id}/traces/{ctx.trace_id}"
            )
            entry["logging.googleapis.com/spanId"] = ctx.span_id
            entry["logging.googleapis.com/trace_sampled"] = ctx.sampled
            entry["trace_id"] = ctx.trace_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            # Tracebacks go to the log (never to a client), under Cloud Error Reporting's field.
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(service: str, project_id: str, level: str = "INFO") -> None:
    """Route the root logger, uvicorn's and the libraries' loggers through the JSON formatter."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudJsonFormatter(service, project_id))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        lib_logger = logging.getLogger(name)
        lib_logger.handlers[:] = []
        lib_logger.propagate = True
    # The request middleware writes one structured line per request instead.
    logging.getLogger("uvicorn.access").disabled = True
