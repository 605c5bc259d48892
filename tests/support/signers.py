"""Fixtures for tests of the platform's signing key: both signers, the local key file and Cloud
KMS (through the gRPC stand-in). A test module takes them with
`from tests.support.signers import kms_server, kms_signer, signer`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agora_common.kms import close_kms_client, make_kms_client
from agora_common.signing import CardSigner
from agora_common.signing.kms import KmsCardSigner
from agora_common.signing.local import LocalCardSigner
from tests.support.kms import KmsStandIn, kms_stand_in


@pytest.fixture(scope="module")
def kms_server() -> Iterator[KmsStandIn]:
    with kms_stand_in() as server:
        yield server


@pytest.fixture
async def kms_signer(kms_server: KmsStandIn) -> AsyncIterator[KmsCardSigner]:
    kms_server.mode = "ok"
    client = make_kms_client(kms_server.endpoint)
    yield KmsCardSigner(client, kms_server.sign_key_version, timeout_s=0.5)
    await close_kms_client(client)


@pytest.fixture(params=["local", "kms"])
def signer(request: pytest.FixtureRequest, tmp_path: Path) -> CardSigner:
    if request.param == "local":
        return LocalCardSigner(tmp_path / "keys" / "card-signing.pem")
    kms_signer: CardSigner = request.getfixturevalue("kms_signer")
    return kms_signer
