"""Checks JSON answers against ElevenLabs' official OpenAPI document: the parts leadcall uses,
vendored in this folder (`elevenlabs-openapi-subset.json`, built by `openapi_subset.py`).

A small validator for the JSON-Schema subset the document uses: `$ref`, `anyOf`,
`oneOf` (with a discriminator, the mapped branch), `allOf`, `type`, `enum`, `const`,
`required`, `properties`, `items`, `additionalProperties`. It reports every
mismatch with its path, so a failing test says which field is wrong.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.simulator.openapi_subset import SUBSET_PATH

_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                       "boolean": (bool,), "array": (list,), "object": (dict,), "null": (type(None),)}


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SUBSET_PATH.read_text())
    return loaded


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec()["components"]["schemas"][name]
    return found


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema(node["$ref"].rsplit("/", 1)[-1])
    return node


def _type_ok(value: Any, wanted: str) -> bool:
    if isinstance(value, bool) and wanted in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[wanted])


def errors(value: Any, node: dict[str, Any], path: str = "$") -> list[str]:
    """Every way `value` breaks `node` (empty when it conforms)."""
    node = _resolve(node)
    found: list[str] = []
    if "allOf" in node:
        for part in node["allOf"]:
            found += errors(value, part, path)
    if "anyOf" in node or "oneOf" in node:
        branches = node.get("anyOf") or node["oneOf"]
        discriminator = node.get("discriminator")
        if discriminator and isinstance(value, dict) and discriminator.get("mapping"):
            target = discriminator["mapping"].get(value.get(discriminator["propertyName"]))
            if target is None:
                return [f"{path}: discriminator {value.get(discriminator['propertyName'])!r} not in the mapping"]
            return found + errors(value, {"$ref": target}, path)
        results = [errors(value, branch, path) for branch in branches]
        if all(results):
            best = min(results, key=len)
            found += [f"{path}: matches no branch; closest: {best}"]
    if "type" in node:
        wanted = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(_type_ok(value, w) for w in wanted):
            return found + [f"{path}: {value!r} is not {wanted}"]
    if "enum" in node and value not in node["enum"]:
        found.append(f"{path}: {value!r} not in {node['enum']}")
    if "const" in node and value != node["const"]:
        found.append(f"{path}: {value!r} != {node['const']!r}")
    if isinstance(value, dict):
        for key in node.get("required", []):
            if key not in value:
                found.append(f"{path}: required key {key!r} missing")
        properties = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                found += errors(item, properties[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                found += errors(item, extra, f"{path}.{key}")
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, item in enumerate(value):
            found += errors(item, node["items"], f"{path}[{index}]")
    return found


def response_errors(value: Any, method: str, path: str) -> list[str]:
    """Checks `value` against the 200 response schema the document declares for `method path`."""
    operation = spec()["paths"][path][method.lower()]
    content = operation["responses"]["200"]["content"]["application/json"]
    return errors(value, content["schema"])


def assert_conforms(value: Any, name: str) -> None:
    problems = errors(value, schema(name))
    assert not problems, "\n".join(problems[:20])


def assert_response_conforms(value: Any, method: str, path: str) -> None:
    problems = response_errors(value, method, path)
    assert not problems, "\n".join(problems[:20])
