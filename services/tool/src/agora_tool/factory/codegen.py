"""Pydantic v2 models from the tools' JSON Schemas, with datamodel-code-generator.

All the schemas of a package become one module: each is placed under `$defs` of one document,
its local references rewritten to point inside it, so nested models of different schemas get
distinct names. The options are fixed (no timestamp, no formatter: ruff formats afterwards), so
the same schemas always give the same code. Descriptions become `Field(description=...)`
strings, never docstrings or comments, and every user string is a repr-quoted literal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from datamodel_code_generator import InputFileType, LiteralType, PythonVersion, generate
from datamodel_code_generator.enums import DataModelType

from agora_tool.factory.errors import GenerationFailed

HEADER = '"""Models of the tools\' payloads, generated from their JSON Schemas."""'


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                prefix + value[1:]
                if key == "$ref" and isinstance(value, str) and value.startswith("#")
                else _rewrite_refs(value, prefix)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, prefix) for item in node]
    return node


def models_source(schemas: Mapping[str, dict[str, Any]]) -> str:
    """One module defining a model per (class name, object schema), unformatted."""
    document = {
        "$defs": {
            name: _rewrite_refs(
                {k: v for k, v in schema.items() if k != "$schema"}, f"#/$defs/{name}"
            )
            for name, schema in schemas.items()
        }
    }
    try:
        source = generate(
            json.dumps(document),
            input_file_type=InputFileType.JsonSchema,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_311,
            custom_file_header=HEADER,
            disable_timestamp=True,
            formatters=[],
            skip_root_model=True,
            snake_case_field=True,
            use_annotated=True,
            field_constraints=True,
            use_standard_collections=True,
            use_union_operator=True,
            use_double_quotes=True,
            enum_field_as_literal=LiteralType.All,
        )
    except Exception as exc:  # the generator's own errors share no base class
        raise GenerationFailed("The models could not be generated from the schemas") from exc
    if not isinstance(source, str):
        raise GenerationFailed("The model generator gave no single module")
    missing = [name for name in schemas if f"class {name}(" not in source]
    if missing:
        raise GenerationFailed(f"The model generator named no model {missing[0]}")
    return source
