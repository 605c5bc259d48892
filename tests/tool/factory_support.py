"""Helpers of the Tool Factory tests: requests, writing a package out, running its own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from agora_tool.factory import GeneratedPackage, GenerateRequest

PETS_OPENAPI = """\
openapi: 3.0.3
info: {title: Pets, version: "1"}
servers: [{url: "https://pets.example.com/v1"}]
paths:
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: string}}
    get:
      operationId: getPetById
      summary: Get one pet by its id
      parameters:
        - {name: verbose, in: query, schema: {type: boolean, nullable: true}}
        - {name: X-Trace-Id, in: header, schema: {type: string}}
        - {name: Authorization, in: header, schema: {type: string}}
        - {name: session, in: cookie, schema: {type: string}}
      responses:
        200:
          description: the pet
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
  /pets:
    get:
      operationId: listPets
      description: List pets, a page at a time
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, minimum: 1}}
        - name: kind
          in: query
          schema: {type: array, items: {type: string, enum: [cat, dog]}}
      responses:
        "200":
          description: pets
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
      responses:
        "201": {description: created}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string, minLength: 1}
        age: {type: integer, minimum: 0, exclusiveMinimum: true}
        kind: {type: string, enum: [cat, dog], nullable: true}
"""

CONTACT_INPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "contact": {
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email"},
                "homepage": {"type": "string", "format": "uri"},
                "name": {"type": "string", "minLength": 1, "maxLength": 40},
            },
            "required": ["email", "name"],
            "additionalProperties": False,
        },
        "when": {"type": "string", "format": "date-time"},
        "priority": {"type": "string", "enum": ["low", "normal", "high"]},
        "attendees": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "email": {"type": "string", "format": "email"},
                    "role": {"type": "string", "enum": ["host", "guest"]},
                },
                "required": ["email"],
            },
            "minItems": 1,
            "maxItems": 5,
        },
        "seats": {"type": "integer", "minimum": 1, "maximum": 100},
    },
    "required": ["contact", "when", "priority"],
    "additionalProperties": False,
}

CONTACT_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "booking_id": {"type": "string"},
        "confirmed": {"type": "boolean"},
        "starts": {"type": "string", "format": "date-time"},
    },
    "required": ["booking_id", "confirmed"],
}


def python_request(**overrides: Any) -> GenerateRequest:
    fields: dict[str, Any] = {
        "name": "Meeting Booker",
        "description": "Books a meeting with a contact and its attendees.",
        "kind": "python",
        "tags": ["calendar", "booking"],
        "input_schema": CONTACT_INPUT,
        "output_schema": CONTACT_OUTPUT,
    }
    return GenerateRequest.model_validate({**fields, **overrides})


def http_request(**overrides: Any) -> GenerateRequest:
    fields: dict[str, Any] = {
        "name": "Pet Store",
        "description": "The pet store's API as tools.",
        "kind": "http",
        "openapi": PETS_OPENAPI,
        "operation_ids": ["getPetById", "listPets", "createPet"],
    }
    return GenerateRequest.model_validate({**fields, **overrides})


def write_package(package: GeneratedPackage, root: Path) -> Path:
    for path, text in package.files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def run_package_tests(
    root: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m pytest` in the package, with only its own src on the path."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio"],
        cwd=root,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(root / "src"),
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_python(
    code: str, root: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A script against the package, in its own interpreter (no import leaks into this one)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(root / "src"),
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_all_pass(done: subprocess.CompletedProcess[str]) -> None:
    """A package's own tests ran, and every one passed (none failed or skipped)."""
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout
    assert "failed" not in done.stdout
    assert "skipped" not in done.stdout
