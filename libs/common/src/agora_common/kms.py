"""The one Cloud KMS client the platform uses (auth's key wrapper, the signing key): made the
same way, retried the same way, checksummed the same way.

The generated client logs whole requests and responses at DEBUG (data keys, digests): its logger
is kept at INFO whatever the root level is.
"""

from __future__ import annotations

import logging

import google_crc32c
import grpc  # type: ignore[import-untyped]
from google.api_core import exceptions as google_errors
from google.api_core.retry import if_exception_type
from google.api_core.retry_async import AsyncRetry
from google.cloud import kms
from google.cloud.kms_v1.services.key_management_service.transports import (
    KeyManagementServiceGrpcAsyncIOTransport,
)

_CLIENT_LOGGER = "google.cloud.kms_v1"


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


def kms_retry(timeout_s: float) -> AsyncRetry:
    """Retries of transient KMS failures, all within the call's own time budget."""
    return AsyncRetry(
        predicate=if_exception_type(
            google_errors.ServiceUnavailable, google_errors.DeadlineExceeded
        ),
        initial=0.05,
        maximum=0.5,
        timeout=timeout_s,
    )
