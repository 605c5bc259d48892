"""A tool's payload against the input_schema its card declares: 400 with JSON paths."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from agora_common.cache import ExpiringCache
from agora_common.errors import BadRequest, NotFound

MAX_PROBLEMS = 20


class UnknownTool(NotFound):
    code, message = "UNKNOWN_TOOL", "The agent has no such tool"


class InvalidPayload(BadRequest):
    code, message = "INVALID_PAYLOAD", "The payload does not match the tool's input schema"


class PayloadChecker:
    """Validators compiled once per (card digest, tool) and reused."""

    def __init__(self) -> None:
        self._validators: ExpiringCache[Any] = ExpiringCache(2048)

    def check(self, card: dict[str, Any], card_key: str, tool_name: str, payload: Any) -> None:
        validator = self._validator(card, card_key, tool_name)
        problems = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
        if problems:
            raise InvalidPayload(
                details=[
                    {"path": _path(error.absolute_path), "message": _message(error)}
                    for error in problems[:MAX_PROBLEMS]
                ]
            )

    def _validator(self, card: dict[str, Any], card_key: str, tool_name: str) -> Any:
        key = f"{card_key}\x00{tool_name}"
        validator = self._validators.get(key)
        if validator is None:
            tool = next((t for t in card.get("tools", []) if t.get("name") == tool_name), None)
            if tool is None:
                raise UnknownTool(f"The agent has no tool named {tool_name!r}")
            validator = Draft202012Validator(tool["input_schema"])
            self._validators.put(key, validator, float("inf"))
        return validator


def _path(parts: Any) -> str:
    path = "$.payload"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _message(error: Any) -> str:
    """What failed, without echoing the value that failed (it may be a secret)."""
    validator = error.validator
    if validator == "required":
        return "a required property is missing"
    if validator == "additionalProperties":
        return "unexpected properties are not allowed"
    if validator == "type":
        return f"must be of type {error.validator_value}"
    return f"fails the schema's {validator!r} rule"
