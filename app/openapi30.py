"""Down-convert FastAPI's OpenAPI 3.1 document to OpenAPI 3.0.3 for OGC API – Features clients.

OGC API – Features Part 1 declares the ``oas30`` conformance class, and some clients (QGIS, ArcGIS, older
validators) read only 3.0. The differences that matter for our schema are in JSON Schema: 3.1 writes a
nullable value as ``type: [T, "null"]`` or ``anyOf: [..., {type: null}]`` where 3.0 has ``nullable``;
``const``, ``examples``, ``prefixItems`` and numeric ``exclusiveMinimum`` do not exist in 3.0.
"""

from __future__ import annotations

import copy
from typing import Any

_NULL = {"type": "null"}


def to_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    converted = copy.deepcopy(document)
    converted["openapi"] = "3.0.3"
    converted.get("info", {}).pop("summary", None)  # 3.1 only
    converted.pop("webhooks", None)
    converted.pop("jsonSchemaDialect", None)
    for name, schema in converted.get("components", {}).get("schemas", {}).items():
        converted["components"]["schemas"][name] = _schema(schema)
    for path_item in converted.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _schema(parameter["schema"])
            bodies = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
            for body in bodies:
                for media in body.get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = _schema(media["schema"])
    return converted


def _schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _schema(value) for key, value in node.items()}
    if isinstance(node.get("type"), list):
        types = [t for t in node["type"] if t != "null"]
        if len(types) < len(node["type"]):
            node["nullable"] = True
        if len(types) == 1:
            node["type"] = types[0]
        else:
            node.pop("type")
            node["anyOf"] = [{"type": t} for t in types]
    for combiner in ("anyOf", "oneOf"):
        if combiner in node and _NULL in node[combiner]:
            rest = [option for option in node[combiner] if option != _NULL]
            node["nullable"] = True
            if len(rest) == 1:
                node.pop(combiner)
                only = rest[0]
                # A $ref cannot carry siblings in 3.0: wrap it.
                node.update({"allOf": [only]} if "$ref" in only else only)
            else:
                node[combiner] = rest
    if node.get("type") == "null":
        node.pop("type")
        node["nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "examples" in node and isinstance(node["examples"], list):
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), (int, float)) and not isinstance(node.get(bound), bool):
            node[plain] = node.pop(bound)
            node[bound] = True
    if "prefixItems" in node:
        items = node.pop("prefixItems")
        node["items"] = items[0] if all(item == items[0] for item in items) else {"anyOf": items}
        node.setdefault("minItems", len(items))
    node.pop("contentMediaType", None)
    node.pop("$schema", None)
    return node
