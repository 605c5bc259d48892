"""The Tool Factory's generator: an agent package from a description, schemas or an OpenAPI.

`GenerateRequest` is the request of `POST /generate` (reading it validates it in full);
`generate` builds a python or http package, `generate_llm` an llm one (its body written by a
model), and `verify_format` checks a package's formatting and lint.
"""

from agora_tool.factory.errors import (
    GenerationFailed,
    InvalidOpenAPI,
    InvalidSchema,
    ModelFailed,
    UnknownOperation,
)
from agora_tool.factory.llm import LlmEndpoint, generate_llm, write_implementation
from agora_tool.factory.package import GeneratedPackage, generate
from agora_tool.factory.spec import GenerateRequest, ToolKind
from agora_tool.factory.verify import Problem, verify_format

__all__ = [
    "GenerateRequest",
    "GeneratedPackage",
    "GenerationFailed",
    "InvalidOpenAPI",
    "InvalidSchema",
    "LlmEndpoint",
    "ModelFailed",
    "Problem",
    "ToolKind",
    "UnknownOperation",
    "generate",
    "generate_llm",
    "verify_format",
    "write_implementation",
]
