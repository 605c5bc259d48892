"""`GET /internal/tokens/{token_id}/spend`: one personal token's spending (the executor only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from agora_analytics.models import TokenSpend
from agora_analytics.routes.deps import Reads, SpendReader
from agora_common.errors import ValidationFailed

router = APIRouter(tags=["internal"])
# A calendar month is at most 31 days: the executor asks from the start of the current one.
MAX_LOOKBACK = timedelta(days=31)
TokenId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get(
    "/internal/tokens/{token_id}/spend",
    response_model=TokenSpend,
    summary="What one personal token's executions cost since a time (executor only)",
)
async def token_spend(
    token_id: TokenId, since: Annotated[datetime, Query()], _: SpendReader, reads: Reads
) -> TokenSpend:
    """`since` (with a time zone) at most 31 days back: the executor asks from the start of the
    month. 503/504 when BigQuery is unavailable, so the executor can fail closed at once."""
    now = datetime.now(UTC)
    if since.tzinfo is None or not now - MAX_LOOKBACK <= since <= now:
        raise ValidationFailed(
            "since must be a time with a zone, in the last 31 days",
            details=[{"path": "$.query.since", "message": "outside the last 31 days"}],
        )
    return await reads.token_spend(token_id, since)
