"""The Tool Factory's refusals in the shared envelope: one code each, JSON paths in details."""

from __future__ import annotations

from agora_common.errors import AgoraError, BadGateway, ValidationFailed


class InvalidSchema(ValidationFailed):
    code, message = "INVALID_SCHEMA", "A JSON Schema of the request is not valid or is too complex"


class InvalidOpenAPI(ValidationFailed):
    code, message = "INVALID_OPENAPI", "The OpenAPI document cannot be used"


class UnknownOperation(ValidationFailed):
    code, message = "UNKNOWN_OPERATION", "The OpenAPI document has no operation with that id"


class ModelFailed(BadGateway):
    """The model provider could not be reached, refused the call, or answered unusable code."""

    code, message = "LLM_FAILED", "The model provider gave no usable implementation"


class GenerationFailed(AgoraError):
    """A step of generation itself broke (a formatter crashed or timed out): a bug or an outage."""

    code, message = "GENERATION_FAILED", "The package could not be generated"


def problem(path: str, message: str) -> dict[str, str]:
    """One entry of an error's details."""
    return {"path": path, "message": message}
