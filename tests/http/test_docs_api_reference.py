"""/docs/oauth's API reference (issue 17, item 6): every /api/v1 operation of the app's own
OpenAPI document, with its scope, parameters, body, responses and an example, read from that
document when the page is rendered, so a new operation is on the page without anyone editing it;
the notes for common libraries; and the sections of the published guide."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from piksend.web.api_reference import api_reference, example
from piksend.web.routes.api_docs import guarded
from tests.conftest import ISSUER


class Frame(BaseModel):
    """The body and answer of an operation that only this test adds to the app."""

    width: int
    label: str = "wide"


@pytest.fixture
async def guide(http) -> str:
    response = await http.get("/docs/oauth")
    assert response.status_code == 200
    return response.text


def entry(page: str, anchor: str) -> str:
    match = re.search(rf'<article class="api-op" id="{anchor}"(.*?)</article>', page, re.S)
    assert match, f"no #{anchor} on the page"
    return match.group(1)


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/") or path == "/api/v1"
        for method, op in item.items()
    ]


async def test_every_api_operation_is_on_the_page_with_scope_parameters_responses_and_example(
    app, guide
):
    document = app.openapi()
    ops = operations(document)
    assert len(ops) >= 20
    anchors = re.findall(r'<article class="api-op" id="([^"]+)"', guide)
    assert len(anchors) == len(ops) == len(set(anchors))
    for method, path, op in ops:
        anchor = "api-" + re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")
        text = html.unescape(re.sub(r"<wbr>", "", entry(guide, anchor)))
        assert f"{method.upper()}\xa0{path}" in text
        assert f"— {op['summary']}</h4>" in text
        (scope,) = op["security"][0]["piksend_oauth"]
        assert f'Scope: <code class="scope">{scope}</code>.' in text
        for parameter in op.get("parameters", []):
            assert f"<td><code>{parameter['name']}</code>" in text
            assert f"<td>{parameter['in']}</td>" in text
        for media_type, content in op.get("requestBody", {}).get("content", {}).items():
            assert re.search(
                rf"<caption>Body \(<code[^>]*>{re.escape(media_type)}</code>\)</caption>", text
            ), media_type
            schema = content["schema"]
            if "$ref" in schema:
                schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            for field in schema["properties"]:
                assert f"<td><code>{field}</code>" in text
        for status, response in op["responses"].items():
            assert f"<tr><td>{status}</td>" in text
            assert f"<td>{response['description']}</td></tr>" in text
        assert (
            f'<pre class="code" tabindex="0"><code>curl -X {method.upper()} "{ISSUER}/api/v1'
            in text
        )
        assert '-H "Authorization: Bearer $ACCESS_TOKEN"' in text
        success = next(s for s in op["responses"] if s.startswith("2"))
        assert (
            f"Example answer (<code>{success}</code>)" in text
            or (success == "204" and "Answers <code>204</code> with no body." in text)
            or "application/json" not in op["responses"][success].get("content", {})
        )


async def test_an_operation_added_to_the_app_is_on_the_page_without_editing_the_page(app, http):
    router = APIRouter(prefix="/api/v1")

    @router.post("/frames", summary="Frame an image", **guarded("images:write", 404))
    async def frame(body: Frame) -> Frame:  # pragma: no cover - only documented here
        return body

    app.include_router(router)
    app.openapi_schema = None  # as at a start-up with the new route
    page = (await http.get("/docs/oauth")).text
    text = html.unescape(entry(page, "api-post-api-v1-frames"))
    assert "— Frame an image</h4>" in text
    assert 'Scope: <code class="scope">images:write</code>.' in text
    assert "<td><code>width</code> (required)</td><td>integer</td>" in text
    assert "<tr><td>404</td>" in text
    assert "-d '{\"width\": 0}'" in text
    assert json.loads(
        re.search(r"Example answer.*?<code>(\{.*?\})</code>", text, re.S).group(1)
    ) == {
        "width": 0,
        "label": "wide",
    }
    assert '<a href="#api-post-api-v1-frames">' in page


def test_examples_follow_the_schema_enum_default_format_and_references():
    document = {
        "components": {
            "schemas": {
                "Out": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"type": "string", "enum": ["private", "public"]},
                        "size": {"type": "integer", "minimum": 1},
                        "at": {
                            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]
                        },
                        "tags": {"type": "array", "items": {"type": "string", "default": "x"}},
                        "ok": {"type": "boolean", "default": True},
                    },
                }
            }
        }
    }
    assert example(document, {"$ref": "#/components/schemas/Out"}) == {
        "id": "string",
        "kind": "private",
        "size": 1,
        "at": "2026-01-31T12:00:00Z",
        "tags": ["x"],
        "ok": True,
    }


def test_only_api_v1_operations_are_listed_grouped_by_tag():
    document = {
        "paths": {
            "/api/oauth/token": {"post": {"summary": "token"}},
            "/api/v1/a": {"get": {"summary": "A", "tags": ["one"]}},
            "/api/v1x": {"get": {"summary": "not ours"}},
            "/api/v1/b": {"delete": {"summary": "B", "tags": ["two"], "responses": {"204": {}}}},
        }
    }
    groups = api_reference(document, ISSUER)
    assert [(g.tag, [op.summary for op in g.operations]) for g in groups] == [
        ("one", ["A"]),
        ("two", ["B"]),
    ]


async def test_the_library_notes_name_the_setting_each_library_needs(guide):
    notes = re.search(r'<section id="libraries">(.*?)</section>', guide, re.S).group(1)
    assert "Pass <code>algorithm: 'oauth2'</code>" in notes
    assert "<code>/.well-known/oauth-authorization-server</code> only" in notes
    assert 'set <code>session.scope = token["scope"]</code>' in notes
    assert 'set <code>client.scope = token["scope"]</code>' in notes


async def test_the_table_of_contents_links_every_section_and_each_target_exists(guide):
    toc = re.search(r'<nav class="card toc" aria-label="On this page">(.*?)</nav>', guide, re.S)
    targets = re.findall(r'<a href="#([\w-]+)">', toc.group(1))
    assert {"api-reference", "libraries", "security", "troubleshooting", "examples"} <= set(targets)
    for target in targets:
        assert f'id="{target}"' in guide, target
    sections = re.findall(r'<section id="([\w-]+)">', guide)
    assert set(sections) <= set(targets)
