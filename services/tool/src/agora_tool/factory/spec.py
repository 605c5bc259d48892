"""The request of `POST /generate`: what to build, checked in full when it is read.

Field shapes are pydantic's (a ValidationError, which the service answers 422
VALIDATION_FAILED); what needs the fields together raises the factory's own ValidationFailed
subclasses from the validator itself: INVALID_SCHEMA, INVALID_OPENAPI, UNKNOWN_OPERATION, or
VALIDATION_FAILED, each with `details` naming the JSON path (`$.input_schema.properties.x`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Self

import semver
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from agora_common.errors import ValidationFailed
from agora_common.models.card import MAX_DESCRIPTION_CHARS
from agora_common.models.fields import WebUrl, plain_text
from agora_tool.factory.errors import problem
from agora_tool.factory.openapi import HttpApi, derive_api
from agora_tool.factory.openapi_document import MAX_OPENAPI_BYTES
from agora_tool.factory.schemas import check_tool_schema

MAX_TAGS = 10
MAX_OPERATIONS = 20
# Model providers with an OpenAI-compatible `POST {base}/v1/chat/completions`.
OPENAI_COMPATIBLE = {
    "openai": "https://api.openai.com",
    "groq": "https://api.groq.com/openai",
    "mistral": "https://api.mistral.ai",
}
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]| (?=[A-Za-z0-9_-]))*")
_TAG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}")


class ToolKind(StrEnum):
    HTTP = "http"  # one tool per operation of an OpenAPI document
    PYTHON = "python"  # one tool from two JSON Schemas, its body left to write
    LLM = "llm"  # the same, its body written by a model


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            "must be ASCII letters, digits, single spaces, - and _, starting with a letter or "
            "digit and not ending with a space"
        )
    return value


def _version(value: str) -> str:
    if not semver.Version.is_valid(value):
        raise ValueError("must be a semantic version such as 1.0.0")
    return value


def _tags(tags: list[str]) -> list[str]:
    for index, tag in enumerate(tags):
        if not _TAG.fullmatch(tag):
            raise ValueError(f"tags[{index}] must be 1-32 lowercase letters, digits or -")
    if len(set(tags)) != len(tags):
        raise ValueError("tags must be unique")
    return tags


def _unique(values: list[str] | None) -> list[str] | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("must be unique")
    return values


def _model(value: str | None) -> str | None:
    if value is not None and not _MODEL.fullmatch(value):
        raise ValueError("must be a model name such as gpt-4o-mini")
    return value


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_name)]
    description: Annotated[
        str, Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS), AfterValidator(plain_text)
    ]
    version: Annotated[str, Field(max_length=64), AfterValidator(_version)] = "1.0.0"
    tags: Annotated[list[str], Field(max_length=MAX_TAGS), AfterValidator(_tags)] = Field(
        default_factory=list
    )
    kind: ToolKind
    # python and llm: the tool's JSON Schemas (draft 2020-12, "type": "object"); http: derived.
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    # http: an OpenAPI 3.0/3.1 document (an object, or its JSON or YAML text) and the operations.
    openapi: dict[str, Any] | Annotated[str, Field(max_length=MAX_OPENAPI_BYTES)] | None = None
    operation_ids: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=200)]],
            Field(min_length=1, max_length=MAX_OPERATIONS),
            AfterValidator(_unique),
        ]
        | None
    ) = None
    base_url: WebUrl | None = None  # instead of the document's servers[0].url
    # llm: which provider's model writes the body.
    provider: str | None = None
    model: Annotated[str | None, AfterValidator(_model)] = None

    _api: HttpApi | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        if self.kind is ToolKind.HTTP:
            _refuse_present(self, "input_schema", "output_schema", "provider", "model")
            if self.openapi is None or self.operation_ids is None:
                raise _missing(self, "openapi", "operation_ids")
            if self.base_url is not None and ("?" in self.base_url or "#" in self.base_url):
                raise ValidationFailed(
                    details=[problem("$.base_url", "must not carry a query or fragment")]
                )
            self._api = derive_api(self.openapi, self.operation_ids, self.base_url)
            return self
        _refuse_present(self, "openapi", "operation_ids", "base_url")
        if self.input_schema is None or self.output_schema is None:
            raise _missing(self, "input_schema", "output_schema")
        check_tool_schema(self.input_schema, ("input_schema",))
        check_tool_schema(self.output_schema, ("output_schema",))
        if self.kind is ToolKind.LLM:
            if self.provider is None or self.model is None:
                raise _missing(self, "provider", "model")
            if self.provider not in OPENAI_COMPATIBLE:
                known = ", ".join(sorted(OPENAI_COMPATIBLE))
                raise ValidationFailed(details=[problem("$.provider", f"must be one of {known}")])
        else:
            _refuse_present(self, "provider", "model")
        return self

    @property
    def api(self) -> HttpApi:
        """The http kind's upstream and operations, derived when the request was read."""
        if self._api is None:
            raise ValueError(f"a {self.kind} request has no API")
        return self._api


def _missing(request: GenerateRequest, *fields: str) -> ValidationFailed:
    missing = [name for name in fields if getattr(request, name) is None]
    return ValidationFailed(
        details=[problem(f"$.{name}", f"required for {request.kind} tools") for name in missing]
    )


def _refuse_present(request: GenerateRequest, *fields: str) -> None:
    present = [name for name in fields if getattr(request, name) is not None]
    if present:
        raise ValidationFailed(
            details=[problem(f"$.{name}", f"not used by {request.kind} tools") for name in present]
        )
