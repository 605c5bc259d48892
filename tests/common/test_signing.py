"""The platform's signing key behind one interface: the local key file and Cloud KMS (against
the gRPC stand-in, reached by the unmodified client), each checked with a JOSE library alone."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64encode

from agora_common.kms import close_kms_client, make_kms_client
from agora_common.signing import CardSigner, SigningUnavailable
from agora_common.signing.cards import check_card_signatures, sign_card
from agora_common.signing.kms import KmsCardSigner
from agora_common.signing.local import LocalCardSigner, SigningKeyFileError
from tests.support.kms import KmsStandIn

CARD: dict[str, Any] = {"name": "QuantFlow", "version": "1.0.0", "skills": [{"id": "price"}]}


def verify(detached: str, payload: bytes, jwks: dict[str, Any]) -> None:
    protected, _, signature = detached.split(".")
    compact = f"{protected}.{urlsafe_b64encode(payload).decode()}.{signature}"
    jws.deserialize_compact(compact, KeySet.import_key_set(jwks), algorithms=["ES256"])


async def test_a_signature_verifies_with_the_published_keys_only(signer: CardSigner) -> None:
    jwks = await signer.public_jwks()
    (key,) = jwks["keys"]
    assert set(key) >= {"kty", "crv", "x", "y", "kid", "alg"} and "d" not in key
    detached = await signer.sign(b"payload", {"typ": "JOSE"})
    assert detached.split(".")[1] == ""  # the payload is detached
    verify(detached, b"payload", jwks)
    with pytest.raises(BadSignatureError):
        verify(detached, b"payloaD", jwks)


async def test_a_signed_card_checks_as_verified_and_a_changed_one_as_failed(
    signer: CardSigner,
) -> None:
    jwks = await signer.public_jwks()
    signed = await sign_card(signer, CARD)
    check = check_card_signatures(signed, jwks)
    assert check is not None and check.status == "verified"
    changed = check_card_signatures({**signed, "version": "1.0.1"}, jwks)
    assert changed is not None and changed.status == "failed"
    # Key order does not matter: the signature covers the RFC 8785 form.
    reordered = dict(reversed(list(signed.items())))
    again = check_card_signatures(reordered, jwks)
    assert again is not None and again.status == "verified"


async def test_the_kms_signer_is_a_fast_503_when_kms_is_down(
    kms_server: KmsStandIn, kms_signer: KmsCardSigner
) -> None:
    await kms_signer.public_jwks()  # the public key is read once and kept
    kms_server.mode = "unavailable"
    with pytest.raises(SigningUnavailable):
        await kms_signer.sign(b"x")
    assert (await kms_signer.public_jwks())["keys"]
    kms_server.mode = "corrupt"
    with pytest.raises(SigningUnavailable):
        await kms_signer.sign(b"x")


async def test_the_kms_signer_refuses_an_unknown_key_version(kms_server: KmsStandIn) -> None:
    client = make_kms_client(kms_server.endpoint)
    try:
        signer = KmsCardSigner(client, kms_server.sign_key_version[:-1] + "9", timeout_s=0.5)
        with pytest.raises(SigningUnavailable):
            await signer.public_jwks()
    finally:
        await close_kms_client(client)


async def test_the_local_key_file_is_made_once_0600_and_refused_when_others_may_read_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys" / "card-signing.pem"
    first = LocalCardSigner(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = LocalCardSigner(path)
    assert await first.public_jwks() == await second.public_jwks()  # the same key, read back
    path.chmod(0o644)
    with pytest.raises(SigningKeyFileError):
        LocalCardSigner(path)
