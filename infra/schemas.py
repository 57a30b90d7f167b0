"""API Gateway request models from the same pydantic models as docs/openapi.json.

API Gateway validates a body against a JSON Schema **draft 4** model before the Lambda runs (and the
Lambda still validates it: defence in depth). Pydantic writes draft 2020-12, so `draft4` rewrites a
schema of the OpenAPI document (`functions.openapi.document()`) into what draft 4 means by it:

- references (`#/components/schemas/X`, `#/$defs/X`) are inlined: a model is one self-contained
  document, and a recursive model cannot be (refused, naming it);
- `const: v` becomes `enum: [v]`; a numeric `exclusiveMinimum`/`exclusiveMaximum` becomes
  `minimum`/`maximum` with the boolean draft 4 uses; `prefixItems` becomes an `items` array;
- an empty `properties` map is left out (it constrains nothing);
- `format` stays only where draft 4 defines it (`date-time`, `email`, ...): pydantic's `date` is not
  a draft 4 format, and the Lambda checks dates anyway;
- any other keyword draft 4 does not know (`$defs`, `examples`, `discriminator`, `readOnly`, ...) is
  dropped; `$schema` names draft 4 on the top-level model.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT4_FORMATS = frozenset({"date-time", "email", "hostname", "ipv4", "ipv6", "uri"})
# keywords whose value is one schema, a list of schemas, or a map of name → schema
_ONE = ("not", "additionalItems", "additionalProperties")
_MANY = ("allOf", "anyOf", "oneOf")
_MAP = ("properties", "patternProperties")
_PLAIN = frozenset(
    {
        "title",
        "description",
        "default",
        "type",
        "enum",
        "multipleOf",
        "maximum",
        "minimum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "minProperties",
        "required",
    }
)
DRAFT4_KEYWORDS = frozenset({*_PLAIN, *_ONE, *_MANY, *_MAP, "items", "dependencies", "format", "$schema"})
_ANNOTATIONS = frozenset({"title", "description", "default"})
_PREFIXES = ("#/components/schemas/", "#/$defs/", "#/definitions/")


class SchemaError(ValueError):
    """A pydantic schema that has no draft 4 model (a recursive or unresolved reference)."""


def draft4(
    schema: Mapping[str, Any], components: Mapping[str, Any], title: str | None = None
) -> dict[str, Any]:
    """`schema` as one self-contained draft 4 document; `components` resolves its references (the
    OpenAPI document's `components.schemas`, or a pydantic schema's `$defs`)."""
    out = _convert(schema, {**components, **schema.get("$defs", {})}, ())
    if title:
        out["title"] = title
    return {"$schema": DRAFT4, **out}


def _convert(
    schema: Mapping[str, Any], components: Mapping[str, Any], seen: tuple[str, ...]
) -> dict[str, Any]:
    if "$ref" in schema:
        return _inline(schema, components, seen)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _PLAIN:
            out[key] = copy.deepcopy(value)
        elif key in _ONE:
            out[key] = value if isinstance(value, bool) else _convert(value, components, seen)
        elif key in _MANY:
            out[key] = [_convert(v, components, seen) for v in value]
        elif key in _MAP:
            if value:  # an empty map says nothing (and CloudFormation drops it from the template)
                out[key] = {name: _convert(v, components, seen) for name, v in value.items()}
        elif key == "items":
            if isinstance(value, list):
                out[key] = [_convert(v, components, seen) for v in value]
            elif "prefixItems" not in schema:
                out[key] = _convert(value, components, seen)
        elif key == "prefixItems":
            out["items"] = [_convert(v, components, seen) for v in value]
            rest = schema.get("items", True)
            out["additionalItems"] = rest if isinstance(rest, bool) else _convert(rest, components, seen)
        elif key == "dependencies":
            out[key] = {
                k: v if isinstance(v, list) else _convert(v, components, seen) for k, v in value.items()
            }
        elif key == "const":
            out["enum"] = [copy.deepcopy(value)]
        elif key == "format" and value in DRAFT4_FORMATS:
            out[key] = value
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, (int, float)) and not isinstance(value, bool):  # 2020-12: the bound itself
            out[plain], out[bound] = value, True
    return out


def _inline(
    schema: Mapping[str, Any], components: Mapping[str, Any], seen: tuple[str, ...]
) -> dict[str, Any]:
    ref = str(schema["$ref"])
    name = next((ref[len(p) :] for p in _PREFIXES if ref.startswith(p)), None)
    if name is None or name not in components:
        raise SchemaError(f"reference {ref!r} does not name a schema of the document")
    if name in seen:
        raise SchemaError(f"schema {name!r} refers to itself ({' → '.join((*seen, name))}): no draft 4 model")
    target = _convert(components[name], components, (*seen, name))
    siblings = _convert({k: v for k, v in schema.items() if k != "$ref"}, components, seen)
    if set(siblings) <= _ANNOTATIONS:  # pydantic's `description` beside a reference
        return {**target, **siblings}
    return {"allOf": [target, siblings]}


def unknown_keywords(schema: Any) -> set[str]:
    """Every keyword of `schema` (walked through its subschemas) that draft 4 does not define."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            found.update(k for k in node if k not in DRAFT4_KEYWORDS)
            for key, value in node.items():
                if key in _MAP or key == "dependencies":
                    walk(list(value.values()))
                elif key in (*_ONE, *_MANY, "items"):
                    walk(value)

    walk(schema)
    return found


def request_schemas(document: Mapping[str, Any]) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(path, METHOD) → (schema name, draft 4 model) for every operation of the OpenAPI document whose
    JSON body is a named schema."""
    components = document.get("components", {}).get("schemas", {})
    out: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            if ref.startswith(_PREFIXES[0]):
                name = ref[len(_PREFIXES[0]) :]
                out[(path, method.upper())] = (name, draft4(components[name], components, name))
    return out
