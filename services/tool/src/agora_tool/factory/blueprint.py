"""What a package will hold, decided before anything is rendered: names, tools, models, card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agora_common.models.card import MAX_TOOL_DESCRIPTION_CHARS
from agora_tool.factory.codegen import models_source
from agora_tool.factory.naming import function_name, pascal_case, slug, tool_name
from agora_tool.factory.openapi import HttpOperation
from agora_tool.factory.spec import GenerateRequest, ToolKind
from agora_tool.factory.text import plain_line

SUMMARY_CHARS = 200


@dataclass(frozen=True)
class ToolPlan:
    name: str  # in the card
    function: str  # in agent.py
    description: str
    input_class: str
    output_class: str | None  # http tools answer the upstream's JSON as it is
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    http: HttpOperation | None = None

    def card(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }
        if self.output_schema is not None:
            entry["output_schema"] = self.output_schema
        return entry


@dataclass(frozen=True)
class Blueprint:
    request: GenerateRequest
    slug: str
    module: str  # agora_<slug>
    dist: str  # agora-<slug>, with dashes
    image: str
    tools: tuple[ToolPlan, ...]
    models_source: str
    base_url: str | None

    @property
    def kind(self) -> ToolKind:
        return self.request.kind

    def card(self) -> dict[str, Any]:
        """The Agora card of the package: what the registry is given (`agent-card.json`)."""
        request = self.request
        return {
            "name": request.name,
            "description": request.description,
            "version": request.version,
            "tags": list(request.tags),
            "tools": [tool.card() for tool in self.tools],
            "deployment": {"image": self.image},
        }

    def context(self) -> dict[str, Any]:
        """What every template may read."""
        request = self.request
        return {
            "name": request.name,
            "description": request.description,
            "summary": plain_line(request.description, SUMMARY_CHARS),
            "version": request.version,
            "tags": list(request.tags),
            "kind": request.kind.value,
            "slug": self.slug,
            "module": self.module,
            "dist": self.dist,
            "image": self.image,
            "tools": self.tools,
            "base_url": self.base_url,
            "pydantic_requirement": (
                "pydantic[email]>=2.12" if "EmailStr" in self.models_source else "pydantic>=2.12"
            ),
        }


def plan(request: GenerateRequest) -> Blueprint:
    name = slug(request.name)
    dist = f"agora-{name.replace('_', '-')}"
    if request.kind is ToolKind.HTTP:
        tools = tuple(_http_tool(op) for op in request.api.operations)
        schemas = {tool.input_class: tool.input_schema for tool in tools}
        base_url: str | None = request.api.base_url
    else:
        tools = (_schema_tool(request, name),)
        schemas = {tools[0].input_class: tools[0].input_schema}
        schemas[str(tools[0].output_class)] = tools[0].output_schema or {}
        base_url = None
    return Blueprint(
        request=request,
        slug=name,
        module=f"agora_{name}",
        dist=dist,
        image=f"{dist}:{request.version.replace('+', '_')}",
        tools=tools,
        models_source=models_source(schemas),
        base_url=base_url,
    )


def _schema_tool(request: GenerateRequest, name: str) -> ToolPlan:
    tool = tool_name(name)
    stem = pascal_case(tool)
    return ToolPlan(
        name=tool,
        function=function_name(tool),
        description=plain_line(request.description, MAX_TOOL_DESCRIPTION_CHARS),
        input_class=f"{stem}Input",
        output_class=f"{stem}Output",
        input_schema=request.input_schema or {},
        output_schema=request.output_schema,
    )


def _http_tool(operation: HttpOperation) -> ToolPlan:
    return ToolPlan(
        name=operation.tool_name,
        function=function_name(operation.tool_name),
        description=operation.description,
        input_class=f"{pascal_case(operation.tool_name)}Input",
        output_class=None,
        input_schema=operation.input_schema,
        output_schema=operation.output_schema,
        http=operation,
    )
