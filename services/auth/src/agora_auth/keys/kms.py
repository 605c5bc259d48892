"""Production's key-encryption key: a Cloud KMS symmetric key, through its async gRPC client.

Every call is bounded by the dependency timeout (a short retry inside it), so a KMS outage is a
fast 503, never google-api-core's default minute of retries. CRC32C checksums go both ways, as
Google recommends, so corruption in transit is caught rather than stored.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import google_crc32c
import grpc  # type: ignore[import-untyped]
from google.api_core import exceptions as google_errors
from google.api_core.retry import if_exception_type
from google.api_core.retry_async import AsyncRetry
from google.cloud import kms
from google.cloud.kms_v1.services.key_management_service.transports import (
    KeyManagementServiceGrpcAsyncIOTransport,
)

from agora_auth.keys.envelope import KeyServiceUnavailable, UnreadableSecret, WrappedKey

log = logging.getLogger("agora.auth.keys")

# The generated client logs whole requests and responses at DEBUG: Encrypt's plaintext and
# Decrypt's answer are data keys. That logger is kept at INFO whatever the root level is.
_CLIENT_LOGGER = "google.cloud.kms_v1"
_PROBE_AAD = b"agora.kms-probe"


def crc32c(data: bytes) -> int:
    return int(google_crc32c.value(data))


def make_kms_client(endpoint: str | None = None) -> kms.KeyManagementServiceAsyncClient:
    """The async client; `endpoint` (local only) is a plaintext gRPC stand-in's host:port."""
    if endpoint is None:
        client = kms.KeyManagementServiceAsyncClient()
    else:
        channel = grpc.aio.insecure_channel(endpoint)
        transport = KeyManagementServiceGrpcAsyncIOTransport(channel=channel)
        client = kms.KeyManagementServiceAsyncClient(transport=transport)
    # After construction: the client may raise its own loggers to DEBUG from the environment.
    logging.getLogger(_CLIENT_LOGGER).setLevel(logging.INFO)
    return client


async def close_kms_client(client: kms.KeyManagementServiceAsyncClient) -> None:
    await client.transport.close()  # type: ignore[no-untyped-call]


class KmsKeyWrapper:
    """A KeyWrapper over one Cloud KMS crypto key; records name the version KMS used."""

    def __init__(
        self, client: kms.KeyManagementServiceAsyncClient, key_name: str, *, timeout_s: float
    ) -> None:
        self._client = client
        self.key_name = key_name
        self._timeout_s = timeout_s
        self._retry = AsyncRetry(
            predicate=if_exception_type(
                google_errors.ServiceUnavailable, google_errors.DeadlineExceeded
            ),
            initial=0.05,
            maximum=0.5,
            timeout=timeout_s,
        )

    async def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        request = kms.EncryptRequest(
            name=self.key_name,
            plaintext=data_key,
            plaintext_crc32c=crc32c(data_key),
            additional_authenticated_data=aad,
            additional_authenticated_data_crc32c=crc32c(aad),
        )
        response = await self._call(self._client.encrypt, request)
        if not (
            response.verified_plaintext_crc32c
            and response.verified_additional_authenticated_data_crc32c
            and response.ciphertext_crc32c == crc32c(response.ciphertext)
            and response.name.startswith(f"{self.key_name}/cryptoKeyVersions/")
        ):
            raise KeyServiceUnavailable("The key service answered a corrupted encryption")
        return WrappedKey(bytes(response.ciphertext), response.name)

    async def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        # Decrypt takes the crypto key, not the version: the ciphertext says which version.
        request = kms.DecryptRequest(
            name=self.key_name,
            ciphertext=wrapped.ciphertext,
            ciphertext_crc32c=crc32c(wrapped.ciphertext),
            additional_authenticated_data=aad,
            additional_authenticated_data_crc32c=crc32c(aad),
        )
        response = await self._call(self._client.decrypt, request)
        if response.plaintext_crc32c != crc32c(response.plaintext):
            raise KeyServiceUnavailable("The key service answered a corrupted decryption")
        return bytes(response.plaintext)

    async def primary_version(self) -> str:
        """Found by encrypting a throwaway key: it needs no more than the encrypt permission."""
        wrapped = await self.wrap(secrets.token_bytes(32), _PROBE_AAD)
        return wrapped.key_version

    async def _call(self, method: Any, request: Any) -> Any:
        try:
            # The client's own deadline and retry, and a hard ceiling in case a call hangs anyway.
            async with asyncio.timeout(self._timeout_s + 0.5):
                return await method(request=request, timeout=self._timeout_s, retry=self._retry)
        except (google_errors.InvalidArgument, google_errors.FailedPrecondition) as exc:
            # Decrypt's answer to a wrong AAD or ciphertext, or to a disabled/destroyed version.
            if isinstance(request, kms.DecryptRequest):
                raise UnreadableSecret("the data key does not unwrap with this AAD") from exc
            log.error("KMS refused a request", extra={"error": type(exc).__name__})
            raise KeyServiceUnavailable() from exc
        except (TimeoutError, google_errors.GoogleAPIError) as exc:
            log.warning("KMS call failed", extra={"error": type(exc).__name__})
            raise KeyServiceUnavailable() from exc
