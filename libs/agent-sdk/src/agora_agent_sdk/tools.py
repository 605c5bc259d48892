"""A declared tool: its function, its input model, and how to call it."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from agora_agent_sdk.checks import check_tool_description, check_tool_name
from agora_agent_sdk.context import Context


@dataclass(frozen=True)
class Tool:
    """One tool of an agent; sync functions run in a thread so they never block the event loop."""

    name: str
    description: str
    input_model: type[BaseModel]
    input_schema: dict[str, Any]
    func: Callable[..., Any]
    payload_param: str
    context_param: str | None
    # From a return annotation that is a pydantic model describing an object (MCP outputSchema).
    output_schema: dict[str, Any] | None = None

    async def run(self, payload: BaseModel, ctx: Context) -> Any:
        kwargs: dict[str, Any] = {self.payload_param: payload}
        if self.context_param is not None:
            kwargs[self.context_param] = ctx
        if inspect.iscoroutinefunction(self.func):
            return await self.func(**kwargs)
        result = await run_in_threadpool(self.func, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def make_tool(func: Callable[..., Any], *, name: str | None, description: str) -> Tool:
    """Read the tool's payload model and optional Context from its annotations; fail fast."""
    tool_name = check_tool_name(name or func.__name__)
    check_tool_description(description)
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        raise TypeError(f"tool {tool_name!r} must return a value, not yield")
    try:
        hints = typing.get_type_hints(func)
    except (NameError, TypeError) as exc:
        raise TypeError(f"tool {tool_name!r}: cannot resolve its annotations ({exc})") from exc
    payload_param: str | None = None
    context_param: str | None = None
    for param in inspect.signature(func).parameters.values():
        annotation = hints.get(param.name)
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise TypeError(f"tool {tool_name!r}: parameter {param.name!r} is positional-only")
        if annotation is Context and context_param is None:
            context_param = param.name
        elif _is_model(annotation) and payload_param is None:
            payload_param = param.name
        elif param.default is inspect.Parameter.empty and param.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            raise TypeError(
                f"tool {tool_name!r}: parameter {param.name!r} must be the payload "
                "(a pydantic BaseModel) or the Context, or have a default"
            )
    if payload_param is None:
        raise TypeError(f"tool {tool_name!r} needs a parameter annotated with a pydantic BaseModel")
    input_model: type[BaseModel] = hints[payload_param]
    # Built now so a model without a JSON Schema fails at import, not on the first card read.
    input_schema = input_model.model_json_schema()
    if input_schema.get("type") != "object":
        raise TypeError(f"tool {tool_name!r}: the payload model must describe a JSON object")
    returned = hints.get("return")
    output_schema = returned.model_json_schema() if _is_model(returned) else None
    if output_schema is not None and output_schema.get("type") != "object":
        output_schema = None  # only object answers have an MCP outputSchema
    return Tool(
        name=tool_name,
        description=description,
        input_model=input_model,
        input_schema=input_schema,
        func=func,
        payload_param=payload_param,
        context_param=context_param,
        output_schema=output_schema,
    )
