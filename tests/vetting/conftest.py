"""Fixtures shared by the vetting tests."""

from tests.support.signers import kms_server, kms_signer, signer  # noqa: F401 (fixtures)
