"""`POST /log`: events from the executor and the gateway (their service identities only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from agora_analytics.models import LogResult
from agora_analytics.routes.deps import EventWriter, Ingest
from agora_common.errors import ValidationFailed

router = APIRouter(tags=["ingestion"])


class LogRequest(BaseModel):
    # Each event is validated on its own (see Ingestor.log), so one bad event is reported by
    # its index and JSON path while the good ones are stored.
    events: Annotated[list[Any], Field(min_length=1)]


@router.post(
    "/log",
    response_model=LogResult,
    summary="Store execution and security events (executor and gateway only)",
)
async def log_events(
    body: LogRequest, source: EventWriter, ingest: Ingest, request: Request
) -> LogResult:
    """Answers once the accepted events are in BigQuery; 503/504 when it is unavailable, so
    the sender keeps them and retries (event ids make a retry harmless).

    Rejected events are listed with their index and JSON paths; when none is accepted, 422.
    """
    limit = request.app.state.settings.max_events_per_request
    if len(body.events) > limit:
        raise ValidationFailed(
            f"At most {limit} events per request",
            details=[{"path": "$.events", "message": f"more than {limit} events"}],
        )
    result = await ingest.log(source, body.events)
    if result.accepted == 0 and result.rejected:
        details = [error for item in result.rejected for error in item.errors]
        raise ValidationFailed("No event was valid", code="INVALID_EVENTS", details=details[:100])
    return result
