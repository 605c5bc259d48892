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

from google.api_core import exceptions as google_errors
from google.cloud import kms

from agora_auth.keys.envelope import KeyServiceUnavailable, UnreadableSecret, WrappedKey
from agora_common.kms import crc32c, kms_retry

log = logging.getLogger("agora.auth.keys")

_PROBE_AAD = b"agora.kms-probe"


class KmsKeyWrapper:
    """A KeyWrapper over one Cloud KMS crypto key; records name the version KMS used."""

    def __init__(
        self, client: kms.KeyManagementServiceAsyncClient, key_name: str, *, timeout_s: float
    ) -> None:
        self._client = client
        self.key_name = key_name
        self._timeout_s = timeout_s
        self._retry = kms_retry(timeout_s)

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
