"""The /api/v1 proxy: a plain ASGI app, because it runs for every public request.

Order per request: route → caller identity → rate limit → circuit breaker → upstream call with
the gateway's service identity, bodies streamed both ways.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from starlette.types import Receive, Scope, Send

from agora_common.breaker import CircuitBreaker
from agora_common.errors import (
    AgoraError,
    BadGateway,
    GatewayTimeout,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    error_response,
)
from agora_common.firebase import FirebaseTokenVerifier
from agora_common.iam.client import ServiceAuth
from agora_common.identity import identity_headers
from agora_common.models.identity import UserIdentity
from agora_common.tracing import outgoing_trace_headers
from agora_gateway.callers import Callers, VerifiedCaller
from agora_gateway.personal_tokens import PersonalTokens
from agora_gateway.ratelimit import Decision, Limit, RateLimiter
from agora_gateway.routing import SAFE_METHODS, Match, Router
from agora_gateway.security import RefusalWatch
from agora_gateway.settings import GatewaySettings
from agora_gateway.streams import (
    DROPPED_REQUEST,
    IDENTITY_PREFIXES,
    CappedBody,
    Relay,
    header,
)

log = logging.getLogger("agora.gateway.proxy")


API_PREFIX = "/api/v1"


class Proxy:
    def __init__(
        self,
        settings: GatewaySettings,
        transport: httpx.AsyncBaseTransport,
        auth: ServiceAuth,
        tokens: FirebaseTokenVerifier,
        limiter: RateLimiter,
        router: Router | None = None,
        refusals: RefusalWatch | None = None,
        personal_tokens: PersonalTokens | None = None,
    ) -> None:
        self.settings = settings
        # The proxy drives httpx's transport interface directly: a client's cookie jar,
        # redirect and auth-flow machinery do nothing for a proxy but cost CPU on every call.
        self.transport = transport
        self.auth = auth
        self.limiter = limiter
        self.router = router or Router()
        self.refusals = refusals
        self.callers = Callers(settings, tokens, personal_tokens)
        self.limits = {group: Limit.parse(text) for group, text in settings.rate_limits.items()}
        self.anonymous_limits = {
            group: Limit(
                max(1, int(limit.requests * settings.anonymous_limit_factor)), limit.period_s
            )
            for group, limit in self.limits.items()
        }
        self.service_urls = {name: url.rstrip("/") for name, url in settings.service_urls.items()}
        self._connect_only = {"connect": settings.http_connect_timeout_s, "pool": None}
        self.breakers = {
            name: CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s)
            for name in self.service_urls
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one public request under /api/v1."""
        try:
            await self._handle(scope, receive, send)
        except AgoraError as error:
            if error.status_code in (401, 403) and self.refusals is not None:
                self.refusals.refused(
                    self.callers.client_ip(scope, scope["headers"]),
                    error.status_code,
                    scope["path"],
                )
            await error_response(error)(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        # Matched and forwarded still percent-encoded, exactly as the client sent it.
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").partition("?")[0][len(API_PREFIX) :]
        found = self.router.match(method, path)
        if found is None:
            raise NotFound()
        if isinstance(found, frozenset):
            raise MethodNotAllowed(headers={"Allow": ", ".join(sorted(found))})
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        caller = await self.callers.identify(scope, headers, found, method)
        decision = await self._rate_limit(found, caller)
        if not decision.allowed:
            raise RateLimited(headers=decision.headers())
        await self._forward(scope, receive, send, found, caller.user, headers, decision)

    async def _rate_limit(self, found: Match, caller: VerifiedCaller) -> Decision:
        group = found.route.group
        limits = self.anonymous_limits if caller.user.is_anonymous else self.limits
        limit = limits.get(group) or limits["read"]
        return await self.limiter.check(group, caller.rate_key, limit)

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        found: Match,
        user: UserIdentity,
        headers: list[tuple[bytes, bytes]],
        decision: Decision,
    ) -> None:
        service = found.route.service
        base = self.service_urls.get(service)
        breaker = self.breakers.get(service)
        if base is None or breaker is None:
            raise ServiceUnavailable(f"The {service} service is not configured")
        upstream_headers = self._upstream_headers(scope, headers, user)
        try:
            authorization = await self.auth.authorization(base)
        except Exception as exc:  # the metadata server (or dev key) failed us, not the client
            log.warning("no service token", extra={"service": service, "error": repr(exc)})
            raise ServiceUnavailable("The gateway cannot authenticate to its services") from exc
        upstream_headers.append((b"authorization", authorization.encode()))
        upstream_headers += [(k.encode(), v.encode()) for k, v in outgoing_trace_headers().items()]
        query = scope.get("query_string", b"")
        url = f"{base}{found.upstream_path}" + (f"?{query.decode('latin-1')}" if query else "")
        method = scope["method"]
        has_body = method not in SAFE_METHODS
        body = CappedBody(receive, has_body=has_body)
        request = httpx.Request(
            method,
            url,
            headers=upstream_headers,
            stream=body if has_body else None,
            # One deadline per request (below) instead of aiohttp's per-chunk read timer, which
            # is rescheduled on every chunk received and showed up in profiles.
            extensions={"timeout": self._connect_only},
        )
        deadline = self.settings.timeouts.get(found.route.group, self.settings.http_read_timeout_s)
        if not breaker.allow():
            retry = str(max(1, round(breaker.retry_after_s())))
            raise ServiceUnavailable(
                f"The {service} service is unavailable", headers={"Retry-After": retry}
            )
        try:
            await self._exchange(request, Relay(send, decision), body, breaker, service, deadline)
        finally:
            breaker.release()  # a half-open trial that ended without an outcome

    async def _exchange(
        self,
        request: httpx.Request,
        relay: Relay,
        body: CappedBody,
        breaker: CircuitBreaker,
        service: str,
        deadline: float,
    ) -> None:
        try:
            async with asyncio.timeout(deadline):
                response = await self.transport.handle_async_request(request)
                breaker.record_success()
                try:
                    await relay.stream(response)
                finally:
                    await response.aclose()
        except Exception as exc:
            # The transport wraps whatever the body stream raised. The client's own failures
            # (too large, gone, too slow to upload) must never count against the service; the
            # answer to a body past the cap or abandoned is BodyLimit's (agora_common.bodies).
            if body.disconnected:
                return
            self._classify(exc, relay, breaker if body.complete else None, service)

    def _classify(
        self, exc: Exception, relay: Relay, breaker: CircuitBreaker | None, service: str
    ) -> None:
        """Map a failed exchange to 503/504/502, or end quietly once the answer has started.

        `breaker` is None when the client had not finished sending its body: then the failure
        may be the client's, and it is not held against the service.
        """
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            if breaker is not None:
                breaker.record_failure()
            raise ServiceUnavailable(f"The {service} service is unreachable") from exc
        if isinstance(exc, TimeoutError | httpx.TimeoutException | httpx.TransportError):
            if relay.started:  # too late for an envelope: end the response where it broke
                log.warning("upstream broke mid-response", extra={"service": service})
                return
            if breaker is not None:
                breaker.record_failure()
            if isinstance(exc, httpx.TransportError) and not isinstance(
                exc, httpx.TimeoutException
            ):
                raise BadGateway(f"The {service} service answered badly") from exc
            raise GatewayTimeout(f"The {service} service did not answer in time") from exc
        raise exc

    def _upstream_headers(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], user: UserIdentity
    ) -> list[tuple[bytes, bytes]]:
        kept = [
            (name, value)
            for name, value in headers
            if name not in DROPPED_REQUEST and not name.startswith(IDENTITY_PREFIXES)
        ]
        if not user.is_anonymous:
            # An agent may name itself the way the design has agents do. The claim is passed on
            # from users too, never trusted: the executor checks it against the verified token and
            # refuses and records a mismatch, where dropping it would hide the attempt.
            claimed = header(headers, b"x-agent-auth")
            if claimed is not None:
                kept.append((b"x-agent-auth", claimed.encode("latin-1")))
        kept += [(k.encode(), v.encode()) for k, v in identity_headers(user).items()]
        kept.append((b"x-forwarded-for", self.callers.client_ip(scope, headers).encode()))
        return kept
