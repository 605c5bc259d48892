"""Settings of the gateway (env prefix `AGORA_GATEWAY_`)."""

from typing import ClassVar, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from agora_common.settings import UnsafeSettingsError
from agora_common.signing.settings import CardSigningSettings

DEFAULT_RATE_LIMITS = {
    "read": "600/minute",
    "write": "60/minute",
    "execute": "120/minute",
    "auth": "60/minute",
    "admin": "300/minute",
    "deploy": "10/minute",
    # The Tool Factory runs formatters and scanners in subprocesses for every generation.
    "generate": "10/minute",
}


class GatewaySettings(CardSigningSettings):
    model_config = SettingsConfigDict(env_prefix="AGORA_GATEWAY_")

    service_name: ClassVar[str] = "gateway"
    allowed_caller_services: ClassVar[tuple[str, ...]] = ()

    # How long clients and caches may keep the JWKS (GET /.well-known/jwks.json).
    jwks_max_age_s: int = Field(default=300, ge=0, le=86_400)
    # Browser origins allowed by CORS; never "*" in production. The MCP endpoint refuses any
    # other Origin (403).
    cors_origins: tuple[str, ...] = ()
    # Where clients reach the gateway (`https://api.example.com`), for the MCP endpoint's OAuth
    # metadata; unset: each request's own host (https outside local mode).
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+$", max_length=300)
    max_body_bytes: int = Field(default=1_048_576, ge=1_024, le=32 * 1_048_576)
    # The request target and the headers each up to this: 414 / 431 in the envelope past it.
    max_head_bytes: int = Field(default=16 * 1024, ge=1_024, le=64 * 1024)
    # What the server buffers of a head still incomplete; past it, the server's own plain 400.
    # Above max_head_bytes, so heads between the two get the envelope.
    max_head_buffer_bytes: int = Field(default=128 * 1024, ge=16 * 1024, le=1_048_576)
    # Requests per period for each route group ("120/minute", "20/10" = 20 per 10 s). Groups
    # left out keep their default.
    rate_limits: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    # Anonymous callers are limited per IP at this fraction of the group's limit.
    anonymous_limit_factor: float = Field(default=0.5, gt=0, le=1)
    # Redis sits on every request (rate limits): a slow one must fail fast, not slow us down.
    dependency_timeout_s: float = Field(default=0.25, gt=0, le=30)
    # Proxies in front of us that append to X-Forwarded-For (Cloud Run's front end: 1).
    trusted_proxy_hops: int = Field(default=1, ge=0, le=5)
    # Revocation needs a lookup at the Auth backend; one per user is reused this long.
    revocation_ttl_s: float = Field(default=30.0, ge=0, le=3600)
    # This many 401/403 answers to one address within the window report a security event.
    refusal_burst_threshold: int = Field(default=20, ge=2, le=100_000)
    refusal_burst_window_s: int = Field(default=60, ge=1, le=3600)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=5.0, gt=0)
    # Per route group upstream timeouts (seconds). "execute" outlasts the executor's own cap on
    # an agent (60 s) so the executor's precise 504 arrives first; a Cloud Run deploy takes minutes.
    timeouts: dict[str, float] = Field(
        default_factory=lambda: {
            "read": 10.0,
            "write": 15.0,
            "execute": 70.0,
            "auth": 10.0,
            "deploy": 300.0,
        }
    )
    # The gateway's access lines would duplicate Cloud Run's request log on the hot path.
    access_log: bool = False

    @field_validator("rate_limits", mode="after")
    @classmethod
    def _keep_default_groups(cls, limits: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_RATE_LIMITS, **limits}

    @model_validator(mode="after")
    def _refuse_wildcard_cors(self) -> Self:
        if not self.is_local and "*" in self.cors_origins:
            raise UnsafeSettingsError("gateway: CORS '*' is refused in production")
        if not self.is_local and self.public_url and not self.public_url.startswith("https://"):
            raise UnsafeSettingsError("gateway: public_url must be https in production")
        return self
