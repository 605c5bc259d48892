"""Production-mode Firebase ID tokens: our own RS256 keys, served as Google's JWKS through respx."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request

from agora_common.errors import ServiceUnavailable, Unauthenticated, add_exception_handlers
from agora_common.firebase import (
    FIREBASE_JWKS_URL,
    MAX_TOKEN_BYTES,
    FirebaseTokenVerifier,
    UserStatus,
    UserStatusLookup,
)
from agora_common.iam import verifier as iam_verifier
from agora_common.iam.tokens import jwks_for, key_id
from agora_common.models.identity import CallerKind
from tests.support.servers import serving

PROJECT = "agora-prod"
ISSUER = f"https://securetoken.google.com/{PROJECT}"
CHALLENGE = 'Bearer realm="agora"'
# What Google's endpoint sends (its max-age varies by a few hours from fetch to fetch).
GOOGLE_CACHE_CONTROL = "public, max-age=19000, must-revalidate, no-transform"
GOOGLE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROTATED_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = key_id(GOOGLE_KEY.public_key())
ROTATED_KID = key_id(ROTATED_KEY.public_key())
DROP = object()  # a claim override that removes the claim


def claims_for(**overrides: Any) -> dict[str, Any]:
    """A Firebase ID token's claims for a password user of PROJECT, signed in ten minutes ago."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": PROJECT,
        "sub": "user-1",
        "user_id": "user-1",
        "email": "ada@example.com",
        "email_verified": True,
        "auth_time": now - 600,
        "iat": now,
        "exp": now + 3600,
        "firebase": {"identities": {}, "sign_in_provider": "password"},
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not DROP}


def id_token(
    *, key: rsa.RSAPrivateKey = GOOGLE_KEY, kid: str | None = KID, **overrides: Any
) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims_for(**overrides), key, algorithm="RS256", headers=headers)


def _b64(data: dict[str, Any]) -> str:
    return jwt.utils.base64url_encode(json.dumps(data).encode()).decode()


def hs256_with_public_key() -> str:
    """The key-confusion attack: HMAC over the token with Google's public key as the secret."""
    pem = GOOGLE_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': KID})}.{_b64(claims_for())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{jwt.utils.base64url_encode(signature).decode()}"


def tampered(**overrides: Any) -> str:
    """A genuine token whose claims were changed after Google signed it."""
    header, _, signature = id_token().split(".")
    return f"{header}.{_b64(claims_for(**overrides))}.{signature}"


def unsigned_token() -> str:
    return jwt.encode(claims_for(), None, algorithm="none", headers={"kid": KID})


class FakeGoogle:
    """Google's securetoken JWKS endpoint, publishing whichever keys the test says."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.published = [GOOGLE_KEY]
        self.route = router.get(FIREBASE_JWKS_URL).mock(side_effect=self._respond)

    @property
    def fetches(self) -> int:
        return self.route.call_count

    def publish(self, *keys: rsa.RSAPrivateKey) -> None:
        self.published = list(keys)

    def _respond(self, _: httpx.Request) -> httpx.Response:
        keys = [jwks_for(key.public_key())["keys"][0] for key in self.published]
        return httpx.Response(
            200, json={"keys": keys}, headers={"cache-control": GOOGLE_CACHE_CONTROL}
        )


class Clock:
    """The JWKS cache's monotonic clock, so key expiry and refetch limits need no sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_verifier(http: httpx.AsyncClient, **options: Any) -> FirebaseTokenVerifier:
    """The production wiring of token_verifier_for, minus firebase-admin."""
    return FirebaseTokenVerifier(
        PROJECT, keys=iam_verifier.JwksCache(FIREBASE_JWKS_URL, http), **options
    )


def lookup_of(status: UserStatus, calls: list[str]) -> UserStatusLookup:
    """A user lookup (firebase-admin's get_user, in production) answering `status` for anyone."""

    async def lookup(uid: str) -> UserStatus:
        calls.append(uid)
        return status

    return lookup


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield FakeGoogle(router)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(iam_verifier, "time", clock)
    return clock


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def verifier(google: FakeGoogle, http: httpx.AsyncClient) -> FirebaseTokenVerifier:
    return make_verifier(http)


async def refusal(verifier: FirebaseTokenVerifier, token: str, **kwargs: Any) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token, **kwargs)
    error = caught.value
    assert error.status_code == 401
    assert error.headers == {"WWW-Authenticate": CHALLENGE}
    assert error.details is None
    return error


# --- accepted tokens -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "kind", "admin"),
    [
        pytest.param({}, CallerKind.USER, False, id="user"),
        pytest.param({"admin": True}, CallerKind.USER, True, id="admin"),
        pytest.param({"admin": "true"}, CallerKind.USER, False, id="admin-must-be-true"),
        pytest.param({"role": "agent"}, CallerKind.AGENT, False, id="agent"),
    ],
)
async def test_a_valid_token_names_the_caller(
    verifier: FirebaseTokenVerifier, claims: dict[str, Any], kind: CallerKind, admin: bool
) -> None:
    verified = await verifier.verify(id_token(**claims))
    assert (verified.uid, verified.email, verified.admin) == ("user-1", "ada@example.com", admin)
    identity = verified.identity()
    assert (identity.kind, identity.uid, identity.email, identity.admin) == (
        kind,
        "user-1",
        "ada@example.com",
        admin,
    )


async def test_keys_are_fetched_once_and_verified_tokens_are_cached(
    google: FakeGoogle, verifier: FirebaseTokenVerifier
) -> None:
    for n in range(5):
        assert (await verifier.verify(id_token(sub=f"user-{n}"))).uid == f"user-{n}"
    token = id_token()
    assert await verifier.verify(token) is await verifier.verify(token)
    assert google.fetches == 1, "Google's keys are fetched once, not per token"


async def test_an_unknown_kid_refetches_at_most_once_per_interval(
    google: FakeGoogle, clock: Clock, verifier: FirebaseTokenVerifier
) -> None:
    await verifier.verify(id_token())
    for n in range(3):
        error = await refusal(verifier, id_token(kid=f"junk-{n}"))
        assert error.message == "ID token signed with an unknown key"
    assert google.fetches == 1, "junk kids must not hammer Google's endpoint"
    clock.advance(31)
    for n in range(3):
        await refusal(verifier, id_token(kid=f"junk-{n}"))
    assert google.fetches == 2, "one refetch per interval, however many unknown kids arrive"


async def test_a_key_rotation_at_google_is_picked_up(
    google: FakeGoogle, clock: Clock, verifier: FirebaseTokenVerifier
) -> None:
    await verifier.verify(id_token())
    google.publish(GOOGLE_KEY, ROTATED_KEY)  # Google publishes the next key before using it
    clock.advance(31)
    rotated = await verifier.verify(id_token(key=ROTATED_KEY, kid=ROTATED_KID, sub="user-2"))
    assert rotated.uid == "user-2"
    assert google.fetches == 2
    google.publish(ROTATED_KEY)  # ...and drops the old one; we notice once max-age runs out
    await verifier.verify(id_token(sub="user-3"))
    clock.advance(19_001)
    error = await refusal(verifier, id_token(sub="user-4"))
    assert error.message == "ID token signed with an unknown key"
    assert google.fetches == 3


@pytest.mark.parametrize(
    "document",
    [["not", "an", "object"], {"keys": "nope"}, {"keys": [{"kty": "RSA", "kid": "k", "n": "!"}]}],
)
async def test_a_malformed_key_document_keeps_the_keys_already_held(
    google: FakeGoogle, clock: Clock, verifier: FirebaseTokenVerifier, document: Any
) -> None:
    await verifier.verify(id_token())
    google.route.side_effect = None
    google.route.return_value = httpx.Response(200, json=document)
    clock.advance(19_001)  # the held keys expire: the next unknown token refetches
    assert (await verifier.verify(id_token(sub="user-2"))).uid == "user-2"
    error = await refusal(verifier, id_token(key=ROTATED_KEY, kid=ROTATED_KID))
    assert error.message == "ID token signed with an unknown key"


async def test_a_malformed_key_document_with_no_keys_held_is_a_503(
    google: FakeGoogle, verifier: FirebaseTokenVerifier
) -> None:
    google.route.side_effect = None
    google.route.return_value = httpx.Response(200, json={"keys": [{"kty": "RSA", "kid": "x"}]})
    with pytest.raises(ServiceUnavailable):
        await verifier.verify(id_token())


# --- refused tokens --------------------------------------------------------------------------


class Refusal(NamedTuple):
    token: Callable[[], str]
    code: str
    message: str


REFUSALS = {
    "wrong-signature": Refusal(
        lambda: id_token(key=ATTACKER_KEY), "INVALID_TOKEN", "ID token has an invalid signature"
    ),
    "unknown-kid": Refusal(
        lambda: id_token(key=ATTACKER_KEY, kid="not-google"),
        "INVALID_TOKEN",
        "ID token signed with an unknown key",
    ),
    "missing-kid": Refusal(lambda: id_token(kid=None), "INVALID_TOKEN", "ID token has no key id"),
    "expired": Refusal(
        lambda: id_token(iat=int(time.time()) - 3700, exp=int(time.time()) - 100),
        "TOKEN_EXPIRED",
        "ID token has expired",
    ),
    "issued-in-the-future": Refusal(
        lambda: id_token(iat=int(time.time()) + 600, exp=int(time.time()) + 4200),
        "INVALID_TOKEN",
        "ID token was issued in the future",
    ),
    "iat-not-a-number": Refusal(
        lambda: id_token(iat=str(int(time.time()))),
        "INVALID_TOKEN",
        "ID token has an invalid iat",
    ),
    "email-too-long": Refusal(
        lambda: id_token(email="a" * 320 + "@example.com"),
        "INVALID_TOKEN",
        "ID token has an invalid email",
    ),
    "auth-time-in-the-future": Refusal(
        lambda: id_token(auth_time=int(time.time()) + 600),
        "INVALID_TOKEN",
        "ID token has an invalid auth_time",
    ),
    "wrong-aud": Refusal(
        lambda: id_token(aud="someone-else"),
        "INVALID_TOKEN",
        "ID token was issued for another project",
    ),
    "wrong-iss": Refusal(
        lambda: id_token(iss="https://securetoken.google.com/someone-else"),
        "INVALID_TOKEN",
        "ID token has the wrong issuer",
    ),
    "missing-exp": Refusal(
        lambda: id_token(exp=DROP), "INVALID_TOKEN", "ID token lacks a required claim"
    ),
    "empty-sub": Refusal(
        lambda: id_token(sub=""), "INVALID_TOKEN", "ID token has no valid subject"
    ),
    "over-long-sub": Refusal(
        lambda: id_token(sub="u" * 129), "INVALID_TOKEN", "ID token subject is too long"
    ),
    "alg-none": Refusal(unsigned_token, "INVALID_TOKEN", "ID token must be RS256-signed"),
    "hs256-with-the-public-key": Refusal(
        hs256_with_public_key, "INVALID_TOKEN", "ID token must be RS256-signed"
    ),
    "over-the-size-cap": Refusal(
        lambda: id_token(padding="x" * MAX_TOKEN_BYTES), "INVALID_TOKEN", "ID token is too long"
    ),
    "tampered-payload": Refusal(
        lambda: tampered(admin=True), "INVALID_TOKEN", "ID token has an invalid signature"
    ),
}
GARBAGE = {
    "empty": "",
    "one-word": "not-a-jwt",
    "dots": "..",
    "three-words": "a.b.c",
    "header-not-json": "bm90IGpzb24.e30.",
    "header-a-list": "W10.e30.",
    "payload-not-base64": f"{id_token().split('.')[0]}.!!!.{id_token().split('.')[2]}",
    "non-ascii": "ä.ö.ü",
    "lone-surrogate": "\ud800.e30.",
    "nul-byte": "a\x00b.e30.",
}
JUNK_BEFORE_ANY_KEY_FETCH = [
    *GARBAGE.values(),
    "x" * (MAX_TOKEN_BYTES + 1),
    unsigned_token(),
    hs256_with_public_key(),
    id_token(kid=None),
]


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_a_bad_token_is_401_with_a_fixed_message(
    verifier: FirebaseTokenVerifier, case: Refusal
) -> None:
    token = case.token()
    error = await refusal(verifier, token)
    assert (error.code, error.message) == (case.code, case.message)
    assert not any(part and part in str(error) for part in token.split("."))


@pytest.mark.parametrize("token", GARBAGE.values(), ids=GARBAGE.keys())
async def test_garbage_is_401_malformed(verifier: FirebaseTokenVerifier, token: str) -> None:
    error = await refusal(verifier, token)
    assert (error.code, error.message) == ("INVALID_TOKEN", "Malformed ID token")


def test_each_kind_of_refusal_has_its_own_answer() -> None:
    answers = {(case.code, case.message) for case in REFUSALS.values()}
    # alg none and HS256 are one refusal (not RS256); tampering is a bad signature.
    assert len(answers) == len(REFUSALS) - 2
    assert ("INVALID_TOKEN", "Malformed ID token") not in answers


async def test_junk_never_reaches_googles_key_endpoint(
    google: FakeGoogle, verifier: FirebaseTokenVerifier
) -> None:
    for token in JUNK_BEFORE_ANY_KEY_FETCH:
        await refusal(verifier, token)
    assert google.fetches == 0


# --- revocation, where it is checked ---------------------------------------------------------


@pytest.mark.parametrize(
    ("disabled", "revoked_after_sign_in_s", "code", "message"),
    [
        pytest.param(True, None, "USER_DISABLED", "This account is disabled", id="disabled"),
        pytest.param(False, 1.0, "TOKEN_REVOKED", "ID token has been revoked", id="revoked"),
    ],
)
async def test_a_disabled_or_revoked_user_is_refused_where_revocation_is_checked(
    google: FakeGoogle,
    http: httpx.AsyncClient,
    disabled: bool,
    revoked_after_sign_in_s: float | None,
    code: str,
    message: str,
) -> None:
    auth_time = int(time.time()) - 600
    valid_after = 0.0 if revoked_after_sign_in_s is None else auth_time + revoked_after_sign_in_s
    calls: list[str] = []
    verifier = make_verifier(http, lookup=lookup_of((disabled, valid_after), calls))
    token = id_token(auth_time=auth_time)
    await verifier.verify(token)  # reads do not pay for the lookup
    assert calls == []
    error = await refusal(verifier, token, check_revoked=True)
    assert (error.code, error.message) == (code, message)
    assert calls == ["user-1"]


async def test_a_token_from_after_the_revocation_is_accepted(
    google: FakeGoogle, http: httpx.AsyncClient
) -> None:
    calls: list[str] = []
    verifier = make_verifier(http, lookup=lookup_of((False, time.time() - 900), calls))
    for _ in range(3):
        assert (await verifier.verify(id_token(), check_revoked=True)).uid == "user-1"
    assert calls == ["user-1"], "one lookup per user is reused for revocation_ttl_s"


async def test_a_hanging_lookup_is_a_fast_503(google: FakeGoogle, http: httpx.AsyncClient) -> None:
    async def hanging(uid: str) -> UserStatus:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    verifier = make_verifier(http, lookup=hanging, lookup_timeout_s=0.05)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        await verifier.verify(id_token(), check_revoked=True)
    assert time.monotonic() - started < 1.0
    assert (caught.value.status_code, caught.value.code) == (503, "SERVICE_UNAVAILABLE")


async def test_a_failing_lookup_is_a_503_and_is_not_remembered(
    google: FakeGoogle, http: httpx.AsyncClient
) -> None:
    outcomes: list[UserStatus | Exception] = [ConnectionError("auth backend down"), (False, 0.0)]

    async def flaky(uid: str) -> UserStatus:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    verifier = make_verifier(http, lookup=flaky, lookup_timeout_s=0.5)
    with pytest.raises(ServiceUnavailable) as caught:
        await verifier.verify(id_token(), check_revoked=True)
    assert caught.value.message == "Cannot check the token's revocation now"
    assert (await verifier.verify(id_token(), check_revoked=True)).uid == "user-1"


# --- the answer over HTTP --------------------------------------------------------------------


def token_app() -> FastAPI:
    """A tiny service whose one route needs a Firebase ID token, with the shared envelope."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as http:
            app.state.verifier = make_verifier(http)
            yield

    app = FastAPI(lifespan=lifespan)
    add_exception_handlers(app)

    @app.get("/me")
    async def me(request: Request) -> dict[str, str]:
        _, _, token = request.headers.get("authorization", "").partition(" ")
        verified = await request.app.state.verifier.verify(token.strip())
        return {"uid": verified.uid}

    return app


def test_a_refused_token_is_a_401_envelope_with_a_challenge(google: FakeGoogle) -> None:
    google.router.route(host="127.0.0.1").pass_through()
    with serving(token_app()) as url:
        accepted = httpx.get(f"{url}/me", headers={"authorization": f"Bearer {id_token()}"})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json() == {"uid": "user-1"}
        for case in (REFUSALS["wrong-aud"], REFUSALS["expired"], REFUSALS["alg-none"]):
            token = case.token()
            response = httpx.get(f"{url}/me", headers={"authorization": f"Bearer {token}"})
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"] == CHALLENGE
            body = response.json()
            assert set(body) == {"error"}
            assert set(body["error"]) == {"code", "message", "trace_id", "timestamp"}
            assert (body["error"]["code"], body["error"]["message"]) == (case.code, case.message)
            assert not any(part in response.text for part in token.split(".") if part)
