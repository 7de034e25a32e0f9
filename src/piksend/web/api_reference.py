"""The API reference of /docs/oauth, read from the app's own OpenAPI document (OpenAPI 3.1) each
time the page is rendered, so the page cannot describe an endpoint, a scope, a parameter or a
response the API does not have: every /api/v1 operation becomes one entry with its scope, its
parameters, its body, its responses and an example request and answer built from its schemas."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

API_PREFIX = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")
Schema = dict[str, Any]


@dataclass(frozen=True)
class Field:
    name: str
    where: str  # "path", "query", "header", or the body's media type
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    shape: str  # the schema's name ("GalleryOut"), "" when there is no body


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    tag: str
    path_parts: tuple[str, ...]  # the path split after each "/": where a line may break
    scope: str
    parameters: tuple[Field, ...]
    body_type: str
    body: tuple[Field, ...]
    answers: tuple[Answer, ...]
    example_request: str
    example_status: str
    example_answer: str


@dataclass(frozen=True)
class Group:
    tag: str
    operations: tuple[Operation, ...]


def api_reference(document: Schema, base_url: str) -> tuple[Group, ...]:
    """Every /api/v1 operation of ``document``, grouped by its first tag in document order."""
    groups: dict[str, list[Operation]] = {}
    for path, item in document.get("paths", {}).items():
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            continue
        for method in METHODS:
            if method in item:
                op = _operation(document, path, method, item[method], base_url)
                groups.setdefault(op.tag, []).append(op)
    return tuple(Group(tag, tuple(ops)) for tag, ops in groups.items())


def _operation(document: Schema, path: str, method: str, op: Schema, base: str) -> Operation:
    security = op.get("security") or document.get("security") or [{}]
    scopes = [
        scope for requirement in security for names in requirement.values() for scope in names
    ]
    parameters = tuple(
        Field(
            name=p["name"],
            where=p.get("in", ""),
            type=_type(document, p.get("schema", {})),
            required=bool(p.get("required")),
            description=p.get("description")
            or _resolve(document, p.get("schema", {})).get("description", ""),
        )
        for p in op.get("parameters", [])
    )
    body_type, body_schema = _body(op.get("requestBody"))
    body = _fields(document, body_schema, body_type) if body_schema else ()
    answers = tuple(
        Answer(status, response.get("description", ""), _shape(response))
        for status, response in op.get("responses", {}).items()
    )
    success = next((a for a in op.get("responses", {}) if a.startswith("2")), "200")
    success_schema = _json_schema(op.get("responses", {}).get(success, {}))
    return Operation(
        anchor="api-" + re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-"),
        method=method.upper(),
        path=path,
        summary=op.get("summary", ""),
        tag=(op.get("tags") or ["other"])[0],
        path_parts=tuple(re.findall(r"[^/]*/|[^/]+$", path)),
        scope=" ".join(scopes),
        parameters=parameters,
        body_type=body_type,
        body=body,
        answers=answers,
        example_request=_curl(document, base, method, path, parameters, body_type, body_schema),
        example_status=success,
        example_answer=(
            json.dumps(example(document, success_schema), indent=2, ensure_ascii=False)
            if success_schema
            else ""
        ),
    )


def _body(request_body: Schema | None) -> tuple[str, Schema]:
    for media_type, content in (request_body or {}).get("content", {}).items():
        return media_type, content.get("schema", {})
    return "", {}


def _json_schema(response: Schema) -> Schema:
    return response.get("content", {}).get("application/json", {}).get("schema", {})


def _shape(response: Schema) -> str:
    for content in response.get("content", {}).values():
        schema = content.get("schema", {})
        return schema.get("$ref", "").rsplit("/", 1)[-1] or schema.get("type", "")
    return ""


def _resolve(document: Schema, schema: Schema) -> Schema:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document.get("components", {}).get("schemas", {}).get(name, {})
    return schema


def _choices(document: Schema, schema: Schema) -> list[Schema]:
    """The alternatives of an ``anyOf``/``oneOf`` without ``null`` (an optional value)."""
    schema = _resolve(document, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        return [schema]
    return [_resolve(document, o) for o in options if o.get("type") != "null"] or [schema]


def _type(document: Schema, schema: Schema) -> str:
    names = []
    for option in _choices(document, schema):
        if "enum" in option:
            names.append(" | ".join(json.dumps(v) for v in option["enum"]))
        elif option.get("type") == "array":
            names.append(f"array of {_type(document, option.get('items', {}))}")
        elif "title" in option and option.get("type") == "object" and "properties" in option:
            names.append(option["title"])
        else:
            kind = option.get("type", "any")
            names.append(f"{kind} ({option['format']})" if "format" in option else kind)
    nullable = any(o.get("type") == "null" for o in _resolve(document, schema).get("anyOf", []))
    return " or ".join(names) + (" or null" if nullable else "")


def _fields(document: Schema, schema: Schema, where: str) -> tuple[Field, ...]:
    schema = _resolve(document, schema)
    required = set(schema.get("required", []))
    return tuple(
        Field(
            name=name,
            where=where,
            type=_type(document, prop),
            required=name in required,
            description=_resolve(document, prop).get("description", ""),
        )
        for name, prop in schema.get("properties", {}).items()
    )


def example(document: Schema, schema: Schema, depth: int = 0) -> Any:
    """A value of ``schema``: its own example or default where it gives one, else made up from
    its type (the first of an enum, the minimum of a number, one item of an array)."""
    schema = _choices(document, schema)[0]
    for key in ("example", "default", "const"):
        if key in schema and schema[key] is not None:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {
            name: example(document, prop, depth + 1)
            for name, prop in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [example(document, schema.get("items", {}), depth + 1)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return _string(schema)


def _string(schema: Schema) -> str:
    formats = {
        "date-time": "2026-01-31T12:00:00Z",
        "date": "2026-01-31",
        "uri": "https://example.com/",
        "email": "person@example.com",
        "binary": "(bytes)",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    return "string"


def _curl(
    document: Schema,
    base: str,
    method: str,
    path: str,
    parameters: tuple[Field, ...],
    body_type: str,
    body_schema: Schema,
) -> str:
    url = base + re.sub(r"\{(\w+)\}", lambda m: "$" + m.group(1).upper(), path)
    query = [f"{p.name}=…" for p in parameters if p.where == "query" and p.required]
    if query:
        url += "?" + "&".join(query)
    lines = [f'curl -X {method.upper()} "{url}"', '  -H "Authorization: Bearer $ACCESS_TOKEN"']
    if body_type == "application/json":
        payload = json.dumps(_required_only(document, body_schema), ensure_ascii=False)
        lines += ['  -H "Content-Type: application/json"', f"  -d '{payload}'"]
    elif body_type == "multipart/form-data":
        for name, prop in _resolve(document, body_schema).get("properties", {}).items():
            value = "@photo.jpg" if prop.get("format") == "binary" else "…"
            lines.append(f'  -F "{name}={value}"')
    return " \\\n".join(lines)


def _required_only(document: Schema, schema: Schema) -> Any:
    """The example body with the required fields, or every field when none is required."""
    value = example(document, schema)
    required = _resolve(document, schema).get("required")
    if isinstance(value, dict) and required:
        return {k: v for k, v in value.items() if k in required}
    return value
