"""A Cloud KMS stand-in: a real grpc.aio server on 127.0.0.1 with the KMS calls we use.

It speaks `google.cloud.kms.v1.KeyManagementService` over plaintext gRPC, so the unmodified
google-cloud-kms async client talks to it through an insecure channel. One symmetric crypto key
with numbered versions: Encrypt uses the primary and answers its version name; the ciphertext
carries the version, so Decrypt on the crypto key name works as on real KMS; additional
authenticated data and CRC32C checksums are honoured. CreateCryptoKeyVersion and
UpdateCryptoKeyPrimaryVersion are what ops run to rotate. `mode` simulates outages. Beside it,
one asymmetric signing key version (`EC_SIGN_P256_SHA256`, `sign_key_version`): AsymmetricSign
signs a SHA-256 digest (DER ECDSA, as KMS answers) and GetPublicKey answers its PEM.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import google_crc32c
import grpc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.cloud import kms

SERVICE = "google.cloud.kms.v1.KeyManagementService"
DEFAULT_KEY = "projects/demo-agora-test/locations/us-central1/keyRings/agora/cryptoKeys/api-keys"
_HEADER = struct.Struct(">I")  # the version number, ahead of nonce + AES-GCM ciphertext
_NONCE = 12

# ok: answer; stall: hold every call until the mode changes (or the server stops);
# unavailable: UNAVAILABLE at once; corrupt: answer with wrong checksums.
Mode = Literal["ok", "stall", "unavailable", "corrupt"]


def _crc(data: bytes) -> int:
    return int(google_crc32c.value(data))


class KmsStandIn:
    """One crypto key's versions, served by a grpc.aio server in a thread of its own."""

    def __init__(self, key_name: str = DEFAULT_KEY) -> None:
        self.key_name = key_name
        self._mode: Mode = "ok"
        self.endpoint = ""
        # Every plaintext Encrypt saw (data keys): tests look for them where they must not be.
        self.plaintexts: list[bytes] = []
        self._lock = threading.Lock()
        self._versions: dict[int, bytes] = {1: AESGCM.generate_key(bit_length=256)}
        self._primary = 1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: grpc.aio.Server | None = None
        self._thread: threading.Thread | None = None
        self._unstalled: asyncio.Event | None = None
        self.sign_key_version = f"{key_name.rsplit('/', 1)[0]}/card-signing/cryptoKeyVersions/1"
        self.sign_key = ec.generate_private_key(ec.SECP256R1())

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        """Change how calls are answered; stalled calls go on when the mode leaves "stall"."""
        self._mode = mode
        if self._loop is not None and self._unstalled is not None:
            event = self._unstalled
            self._loop.call_soon_threadsafe(event.clear if mode == "stall" else event.set)

    # --- what ops (and tests) do -------------------------------------------------------------

    def version_name(self, number: int) -> str:
        return f"{self.key_name}/cryptoKeyVersions/{number}"

    @property
    def primary(self) -> str:
        with self._lock:
            return self.version_name(self._primary)

    def add_version(self) -> str:
        with self._lock:
            number = max(self._versions) + 1
            self._versions[number] = AESGCM.generate_key(bit_length=256)
            return self.version_name(number)

    def make_primary(self, number: int) -> None:
        with self._lock:
            if number not in self._versions:
                raise KeyError(number)
            self._primary = number

    # --- the RPCs --------------------------------------------------------------------------

    async def _encrypt(self, request: kms.EncryptRequest, context: Any) -> kms.EncryptResponse:
        await self._gate(context)
        await self._check_key(request.name, context)
        plaintext, aad = bytes(request.plaintext), bytes(request.additional_authenticated_data)
        if not _crc_ok(request, "plaintext_crc32c", plaintext) or not _crc_ok(
            request, "additional_authenticated_data_crc32c", aad
        ):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "checksum mismatch")
        with self._lock:
            number, key = self._primary, self._versions[self._primary]
            self.plaintexts.append(plaintext)
        nonce = secrets.token_bytes(_NONCE)
        header = _HEADER.pack(number)
        ciphertext = header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + aad)
        return kms.EncryptResponse(
            name=self.version_name(number),
            ciphertext=ciphertext,
            ciphertext_crc32c=_crc(ciphertext) ^ (1 if self.mode == "corrupt" else 0),
            verified_plaintext_crc32c="plaintext_crc32c" in request,
            verified_additional_authenticated_data_crc32c=(
                "additional_authenticated_data_crc32c" in request
            ),
        )

    async def _decrypt(self, request: kms.DecryptRequest, context: Any) -> kms.DecryptResponse:
        await self._gate(context)
        await self._check_key(request.name, context)
        ciphertext, aad = bytes(request.ciphertext), bytes(request.additional_authenticated_data)
        if not _crc_ok(request, "ciphertext_crc32c", ciphertext) or not _crc_ok(
            request, "additional_authenticated_data_crc32c", aad
        ):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "checksum mismatch")
        header, rest = ciphertext[: _HEADER.size], ciphertext[_HEADER.size :]
        number = _HEADER.unpack(header)[0] if len(header) == _HEADER.size else 0
        with self._lock:
            key, primary = self._versions.get(number), self._primary
        if key is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Decryption failed")
        try:
            plaintext = AESGCM(key).decrypt(rest[:_NONCE], rest[_NONCE:], header + aad)
        except (InvalidTag, ValueError):
            # What real KMS answers for a wrong AAD or a damaged ciphertext.
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "Decryption failed: the ciphertext is invalid.",
            )
        return kms.DecryptResponse(
            plaintext=plaintext,
            plaintext_crc32c=_crc(plaintext) ^ (1 if self.mode == "corrupt" else 0),
            used_primary=number == primary,
        )

    async def _create_version(
        self, request: kms.CreateCryptoKeyVersionRequest, context: Any
    ) -> kms.CryptoKeyVersion:
        await self._gate(context)
        await self._check_key(request.parent, context)
        return kms.CryptoKeyVersion(
            name=self.add_version(), state=kms.CryptoKeyVersion.CryptoKeyVersionState.ENABLED
        )

    async def _update_primary(
        self, request: kms.UpdateCryptoKeyPrimaryVersionRequest, context: Any
    ) -> kms.CryptoKey:
        await self._gate(context)
        await self._check_key(request.name, context)
        try:
            self.make_primary(int(request.crypto_key_version_id))
        except (KeyError, ValueError):
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such version")
        return kms.CryptoKey(
            name=self.key_name,
            purpose=kms.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
            primary=kms.CryptoKeyVersion(name=self.primary),
        )

    async def _asymmetric_sign(
        self, request: kms.AsymmetricSignRequest, context: Any
    ) -> kms.AsymmetricSignResponse:
        await self._gate(context)
        if request.name != self.sign_key_version:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown key version {request.name}")
        digest = bytes(request.digest.sha256)
        if len(digest) != 32 or not _crc_ok(request, "digest_crc32c", digest):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad digest")
        der = self.sign_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return kms.AsymmetricSignResponse(
            name=self.sign_key_version,
            signature=der,
            signature_crc32c=_crc(der) ^ (1 if self.mode == "corrupt" else 0),
            verified_digest_crc32c="digest_crc32c" in request,
        )

    async def _get_public_key(
        self, request: kms.GetPublicKeyRequest, context: Any
    ) -> kms.PublicKey:
        await self._gate(context)
        if request.name != self.sign_key_version:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown key version {request.name}")
        pem = self.sign_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return kms.PublicKey(
            name=self.sign_key_version,
            pem=pem.decode(),
            pem_crc32c=_crc(pem),
            algorithm=kms.CryptoKeyVersion.CryptoKeyVersionAlgorithm.EC_SIGN_P256_SHA256,
        )

    async def _gate(self, context: Any) -> None:
        if self.mode == "stall" and self._unstalled is not None:
            self._unstalled.clear()
            await self._unstalled.wait()
        if self.mode == "unavailable":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "KMS stand-in is down")

    async def _check_key(self, name: str, context: Any) -> None:
        if name != self.key_name:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown crypto key {name}")

    # --- serving ----------------------------------------------------------------------------

    def _handlers(self) -> grpc.GenericRpcHandler:
        def unary(
            method: Callable[[Any, Any], Awaitable[Any]], request: Any, response: Any
        ) -> grpc.RpcMethodHandler:
            return grpc.unary_unary_rpc_method_handler(
                method,
                request_deserializer=request.deserialize,
                response_serializer=response.serialize,
            )

        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Encrypt": unary(self._encrypt, kms.EncryptRequest, kms.EncryptResponse),
                "Decrypt": unary(self._decrypt, kms.DecryptRequest, kms.DecryptResponse),
                "CreateCryptoKeyVersion": unary(
                    self._create_version, kms.CreateCryptoKeyVersionRequest, kms.CryptoKeyVersion
                ),
                "UpdateCryptoKeyPrimaryVersion": unary(
                    self._update_primary, kms.UpdateCryptoKeyPrimaryVersionRequest, kms.CryptoKey
                ),
                "AsymmetricSign": unary(
                    self._asymmetric_sign, kms.AsymmetricSignRequest, kms.AsymmetricSignResponse
                ),
                "GetPublicKey": unary(self._get_public_key, kms.GetPublicKeyRequest, kms.PublicKey),
            },
        )

    def start(self) -> None:
        ready = threading.Event()

        async def serve() -> None:
            self._unstalled = asyncio.Event()
            self._unstalled.set()
            self._server = grpc.aio.server()
            self._server.add_generic_rpc_handlers((self._handlers(),))
            port = self._server.add_insecure_port("127.0.0.1:0")
            self.endpoint = f"127.0.0.1:{port}"
            await self._server.start()
            ready.set()

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            loop.run_until_complete(serve())
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="kms-stand-in", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the KMS stand-in did not start")

    def stop(self) -> None:
        if self._loop is None or self._server is None or self._thread is None:
            return
        self.mode = "ok"
        asyncio.run_coroutine_threadsafe(self._server.stop(0), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def _crc_ok(request: Any, field: str, data: bytes) -> bool:
    """A checksum the client sent must match; one it did not send is not checked."""
    return field not in request or int(getattr(request, field)) == _crc(data)


@contextmanager
def kms_stand_in(key_name: str = DEFAULT_KEY) -> Iterator[KmsStandIn]:
    server = KmsStandIn(key_name)
    server.start()
    try:
        yield server
    finally:
        server.stop()
