"""Service-to-service identity: ID tokens out (Google or the local dev signer), verification in."""

from agora_common.iam.client import ServiceAuth, ServiceClient
from agora_common.iam.tokens import (
    DevSigner,
    DevSignerRefused,
    GoogleIdTokenSource,
    TokenSource,
    generate_dev_key,
    token_source_for,
)
from agora_common.iam.verifier import (
    JwksCache,
    ServiceCaller,
    ServiceIdentity,
    ServiceTokenVerifier,
    service_caller,
)

__all__ = [
    "DevSigner",
    "DevSignerRefused",
    "GoogleIdTokenSource",
    "JwksCache",
    "ServiceAuth",
    "ServiceCaller",
    "ServiceClient",
    "ServiceIdentity",
    "ServiceTokenVerifier",
    "TokenSource",
    "generate_dev_key",
    "service_caller",
    "token_source_for",
]
