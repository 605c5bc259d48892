"""What the registry found of an imported card's signatures: server-owned, never a client's."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

# verified: a platform key verifies it; failed: a platform key id, but it does not verify;
# unknown_key: signed under a key that is not the platform's (not fetched, not verified);
# invalid: not a readable JWS.
Result = Literal["verified", "failed", "unknown_key", "invalid"]
# The card's: failed when any signature failed or is invalid, else verified when one verified,
# else unverified (every signature under an unknown key).
Status = Literal["verified", "failed", "unverified"]


class SignatureResult(BaseModel):
    index: int
    kid: str | None = None
    result: Result
    reason: str | None = None


class CardSignatureCheck(BaseModel):
    status: Status
    checked_at: datetime
    signatures: list[SignatureResult] = Field(default_factory=list)

    @classmethod
    def of(cls, results: list[SignatureResult], now: datetime) -> CardSignatureCheck:
        if any(r.result in ("failed", "invalid") for r in results):
            status: Status = "failed"
        elif any(r.result == "verified" for r in results):
            status = "verified"
        else:
            status = "unverified"
        return cls(status=status, checked_at=now, signatures=results)
