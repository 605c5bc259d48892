"""The llm kind: a model writes the tool's body, which must parse and define the tool function.

The model is asked, through an OpenAI-compatible `POST {base}/v1/chat/completions`, for one
```python block defining `def <tool>(payload: <Input>) -> <Output>`. The block is checked with
`ast` (it parses; only imports, functions, classes and assignments that call nothing at the
top; the function is there with one payload parameter) and becomes the package's
`implementation.py`. What the code does is for the vetting service to judge: it scans the
package and runs its tests in a sandbox.

The provider key is the caller's (the service reads it from the auth service for this one call);
it is sent as a bearer token and never logged, kept in a repr, or put in an error.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from agora_tool.factory.blueprint import Blueprint, plan
from agora_tool.factory.errors import ModelFailed
from agora_tool.factory.package import GeneratedPackage, build
from agora_tool.factory.spec import OPENAI_COMPATIBLE, GenerateRequest, ToolKind

MAX_CODE_CHARS = 50_000
_FENCE = re.compile(r"```(?:python|py)[ \t]*\r?\n(.*?)```", re.DOTALL)
_TOP_LEVEL = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Assign,
    ast.AnnAssign,
)


@dataclass(frozen=True)
class LlmEndpoint:
    base_url: str  # https://api.openai.com: the API answers at {base_url}/v1/chat/completions
    model: str
    api_key: str = field(repr=False)
    timeout_s: float = 60.0
    max_response_bytes: int = 1_000_000


def endpoint_for(
    request: GenerateRequest, api_key: str, base_url: str | None = None
) -> LlmEndpoint:
    if request.kind is not ToolKind.LLM or request.provider is None or request.model is None:
        raise ValueError("not an llm request")
    return LlmEndpoint(base_url or OPENAI_COMPATIBLE[request.provider], request.model, api_key)


async def generate_llm(
    request: GenerateRequest,
    *,
    api_key: str,
    base_url: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> GeneratedPackage:
    """The package of an llm request, its body written by the request's provider and model.

    `base_url` replaces the provider's public API (a proxy, or a local model server); `client`
    is the caller's HTTP client (the service's egress-guarded one), else a plain one is made.
    """
    endpoint = endpoint_for(request, api_key, base_url)
    blueprint = await asyncio.to_thread(plan, request)
    implementation = await write_implementation(blueprint, endpoint, client=client)
    return await asyncio.to_thread(build, blueprint, implementation)


async def write_implementation(
    blueprint: Blueprint, endpoint: LlmEndpoint, *, client: httpx.AsyncClient | None = None
) -> str:
    """The checked body of the blueprint's tool (`implementation.py` below its header)."""
    content = await _ask(endpoint, _messages(blueprint), client)
    found = _FENCE.search(content)
    if found is None:
        raise ModelFailed("The model's answer holds no ```python block")
    return checked_code(found.group(1), blueprint)


def _messages(blueprint: Blueprint) -> list[dict[str, str]]:
    tool = blueprint.tools[0]
    system = (
        "You write the body of one tool of an Agora agent, in Python 3.11. Answer with exactly "
        "one ```python fenced block. At its top level the block defines "
        f"`def {tool.function}(payload: {tool.input_class}) -> {tool.output_class}:` and may "
        "hold only imports, constants, helper functions and classes. Import only the standard "
        f"library, the models (`from {blueprint.module}.models import ...`, already written, "
        "shown below) and `from agora_agent_sdk import ToolError`; refuse an input you cannot "
        'handle with `raise ToolError("SOME_CODE", "why")`. No network, files, subprocesses, '
        "environment variables, randomness or state kept between calls."
    )
    spec = {
        "tool": tool.name,
        "description": tool.description,
        "input_schema": tool.input_schema,
        "output_schema": tool.output_schema,
        "models_module": blueprint.models_source,
    }
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": json.dumps(spec, indent=2, ensure_ascii=False)},
    ]


async def _ask(
    endpoint: LlmEndpoint, messages: list[dict[str, str]], client: httpx.AsyncClient | None
) -> str:
    body = {"model": endpoint.model, "messages": messages, "temperature": 0}
    url = f"{endpoint.base_url.rstrip('/')}/v1/chat/completions"
    headers = {"authorization": f"Bearer {endpoint.api_key}"}
    own = client is None
    http = client or httpx.AsyncClient(follow_redirects=False, trust_env=False)
    try:
        async with asyncio.timeout(endpoint.timeout_s):
            async with http.stream("POST", url, json=body, headers=headers) as response:
                raw = await _read_capped(response, endpoint.max_response_bytes)
    except TimeoutError:
        raise ModelFailed("The model provider did not answer in time") from None
    except httpx.HTTPError:
        raise ModelFailed("The model provider could not be reached") from None
    finally:
        if own:
            await http.aclose()
    if response.status_code in (401, 403):
        raise ModelFailed(f"The model provider refused the key ({response.status_code})")
    if not response.is_success:
        raise ModelFailed(f"The model provider answered {response.status_code}")
    return _content(raw)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limit:
            raise ModelFailed("The model provider's answer is too large")
    return bytes(data)


def _content(raw: bytes) -> str:
    try:
        answer: Any = json.loads(raw)
        content = answer["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelFailed("The model provider's answer is not a chat completion") from None
    if not isinstance(content, str):
        raise ModelFailed("The model provider's answer has no text")
    return content


def checked_code(code: str, blueprint: Blueprint) -> str:
    """The model's code when it may become `implementation.py`, less the imports it repeats."""
    if len(code) > MAX_CODE_CHARS:
        raise ModelFailed(f"The model's code is longer than {MAX_CODE_CHARS} characters")
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        raise ModelFailed("The model's code is not valid Python") from None
    function = blueprint.tools[0].function
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (isinstance(node, _TOP_LEVEL) or docstring) or _assigns_a_call(node):
            raise ModelFailed(
                f"The model's code runs a statement at import (line {node.lineno}): only "
                "imports, constants, functions and classes may stand at the top"
            )
    defined = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
    if len(defined) != 1 or not _takes_one_payload(defined[0]):
        raise ModelFailed(f"The model's code does not define {function}(payload) once")
    return _without_repeated_imports(code, tree, blueprint.module)


def _assigns_a_call(node: ast.stmt) -> bool:
    """A top-level assignment that calls something: code run at import, not a constant."""
    if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
        return False
    return any(
        isinstance(part, ast.Call | ast.Await | ast.NamedExpr) for part in ast.walk(node.value)
    )


def _takes_one_payload(function: ast.FunctionDef) -> bool:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    keyword_only_required = [d for d in args.kw_defaults if d is None]
    return len(positional) == 1 and not args.defaults and not keyword_only_required


def _without_repeated_imports(code: str, tree: ast.Module, module: str) -> str:
    """Without `from __future__`, models and ToolError imports: implementation.py has its own."""
    repeated: set[int] = set()
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or any(a.asname for a in node.names):
            continue
        names = {alias.name for alias in node.names}
        future = node.module == "__future__"
        models = node.module in (f"{module}.models", "models") and "*" not in names
        tool_error = node.module == "agora_agent_sdk" and names == {"ToolError"}
        if future or models or tool_error:
            repeated.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = code.splitlines()
    return "\n".join(line for i, line in enumerate(lines, 1) if i not in repeated).strip() + "\n"
