"""The OpenAPI document: every operation's 200 answer has a real schema (issue 11, point 7).

JSON answers name a model with properties (or a list of one) — never ``{}`` or a bare ``object``; the
export files are documented with their media types (CSV, XLSX) instead. Built on fake encoders: no model.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service import export
from service.app import create_app
from service.settings import ServiceSettings
from service.state import load_engine

#: the operations answering with a file rather than JSON
DOWNLOADS = {("post", "/api/export/matches"), ("post", "/api/export/bundles"), ("post", "/api/export/licensees")}
#: briefing packets of a stored meeting plan: one media type each
PACKETS = {("get", "/api/meetings/plans/{plan_id}/grid.csv"): "text/csv; charset=utf-8",
           ("get", "/api/meetings/plans/{plan_id}/meetings/{meeting_id}.pdf"): "application/pdf",
           ("get", "/api/meetings/plans/{plan_id}/agenda.ics"): "text/calendar; charset=utf-8"}


@pytest.fixture(scope="module")
def openapi(fake_demo_index, fake_encoders, tmp_path_factory) -> dict[str, Any]:
    keys_file = tmp_path_factory.mktemp("openapi-keys") / "keys.json"
    settings = ServiceSettings(index=fake_demo_index, keys_file=keys_file, reload_interval=0, audit_log="")
    app = create_app(settings, engine=load_engine(settings, dict(fake_encoders)))
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def _is_real(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A schema that says something: an object with properties, a list of such, or a scalar type."""
    schema = _resolve(doc, schema)
    if not schema:
        return False
    if "anyOf" in schema or "oneOf" in schema:
        return all(_is_real(doc, s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    kind = schema.get("type")
    if kind == "array":
        return _is_real(doc, schema.get("items") or {})
    if kind == "object" or "properties" in schema:
        return bool(schema.get("properties"))
    return kind in ("string", "integer", "number", "boolean")


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def test_every_operation_documents_its_200_answer(openapi):
    ops = _operations(openapi)
    assert len(ops) >= 20  # health, the /api routes, admin keys and index lifecycle
    bad = []
    for method, path, op in ops:
        content = op["responses"].get("200", {}).get("content", {})
        if (method, path) in DOWNLOADS or (method, path) in PACKETS:
            continue
        schema = content.get("application/json", {}).get("schema", {})
        if not _is_real(openapi, schema):
            bad.append(f"{method.upper()} {path}: {schema}")
    assert not bad, "200 answers without a real schema:\n" + "\n".join(bad)


def test_downloads_declare_their_media_types(openapi):
    for method, path in DOWNLOADS:
        content = openapi["paths"][path][method]["responses"]["200"]["content"]
        assert set(content) == set(export.MEDIA_TYPES.values()), path
        assert "application/json" not in content
    for (method, path), media in PACKETS.items():
        content = openapi["paths"][path][method]["responses"]["200"]["content"]
        assert set(content) == {media} and content[media]["schema"]["format"] == "binary", path


@pytest.mark.parametrize(("path", "model"), [
    ("/api/index", "IndexManifest"), ("/api/groups", "TechnologyGroup"),
    ("/api/technologies/{tech_id}", "TechnologyRecord"), ("/api/bundles", "BundlesResponse"),
    ("/api/match", "MatchResponse"), ("/api/licensees", "LicenseesResponse"),
    ("/api/institutions", "InstitutionInfo"), ("/api/admin/keys/{key_id}/revoke", "KeyInfo"),
    ("/api/demands", "SavedDemand"), ("/api/alerts", "AlertRow"), ("/api/demands/{demand_id}", "SavedDemand"),
])
def test_named_models(openapi, path, model):
    ops = openapi["paths"][path]
    op = ops.get("get") or ops.get("delete") or ops["post"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert model in str(schema), (path, schema)


def test_api_operations_document_their_errors(openapi):
    for method, path, op in _operations(openapi):
        if path.startswith("/api/"):
            assert {"401", "422"} <= set(op["responses"]), (method, path)
            if path.startswith("/api/admin/"):
                assert "403" in op["responses"], (method, path)


@pytest.mark.parametrize(("model", "field", "item"), [
    ("MatchResponse", "matches", "MatchRow"), ("MatchRow", "evidence", "MatchEvidence"),
    ("BundlesResponse", "bundles", "ProposalRow"), ("ProposalRow", "coverage", "CoverRow"),
    ("ProposalRow", "technologies", "TechnologySummary"), ("LicenseeCandidate", "evidence", "PortfolioEvidence"),
])
def test_result_items_are_typed_not_open_objects(openapi, model, field, item):
    schema = openapi["components"]["schemas"][model]["properties"][field]
    assert item in str(schema), (model, field, schema)
