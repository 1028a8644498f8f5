"""Property-based fuzzing of the API against its own OpenAPI schema (schemathesis): no input gives a 5xx.

Every operation in ``/openapi.json`` is called with generated (valid and invalid) input, authenticated
with an admin key; examples per operation are capped and generation is derandomised, so the run is
deterministic and takes about a minute.
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from matcher.keys import KeyStore
from service.app import create_app
from service.settings import ServiceSettings
from service.state import load_engine

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def admin_key(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz-keys") / "keys.json"
    return path, KeyStore(path).create("admin")[0]


@pytest.fixture(scope="module")
def fuzz_app(demo_index, admin_key, minilm, use_m3, tmp_path_factory):
    index = tmp_path_factory.mktemp("fuzz-index") / "index"  # a copy: admin/index/rollback may switch versions
    shutil.copytree(demo_index, index)
    settings = ServiceSettings(index=index, keys_file=admin_key[0], reload_interval=0)
    app = create_app(settings, engine=load_engine(settings, {"minilm": minilm, "use-m3": use_m3}))
    with TestClient(app):  # runs the lifespan once
        yield app


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


OPERATIONS = [
    ("GET", "/health"), ("GET", "/api/me"), ("GET", "/api/index"), ("POST", "/api/search"), ("POST", "/api/match"),
    ("POST", "/api/bundles"), ("POST", "/api/licensees"), ("GET", "/api/groups"), ("GET", "/api/technologies/{tech_id}"),
    ("POST", "/api/admin/reload"), ("POST", "/api/admin/keys"), ("GET", "/api/admin/keys"),
    ("POST", "/api/admin/keys/{key_id}/revoke"),
    ("GET", "/api/institutions"), ("POST", "/api/export/matches"), ("POST", "/api/export/bundles"),
    ("POST", "/api/export/licensees"),
    ("GET", "/api/admin/index/versions"), ("POST", "/api/admin/index/activate"), ("POST", "/api/admin/index/rollback"),
    ("POST", "/api/demands"), ("GET", "/api/demands"), ("DELETE", "/api/demands/{demand_id}"), ("GET", "/api/alerts"),
    ("POST", "/api/meetings/plans"), ("GET", "/api/meetings/plans"), ("GET", "/api/meetings/plans/{plan_id}"),
    ("GET", "/api/meetings/plans/{plan_id}/grid.csv"), ("GET", "/api/meetings/plans/{plan_id}/meetings/{meeting_id}.pdf"),
    ("GET", "/api/meetings/plans/{plan_id}/agenda.ics"), ("POST", "/api/meetings/plans/{plan_id}/publish"),
]
#: valid input that may be refused every time (404, never a 5xx): generated ids and version names are not
#: the index's, and a rollback target may be absent
NO_200_REQUIRED = ("/api/technologies/{tech_id}", "/api/admin/index/activate", "/api/admin/index/rollback",
                   "/api/admin/keys/{key_id}/revoke", "/api/demands/{demand_id}", "/api/meetings/plans/{plan_id}",
                   "/api/meetings/plans/{plan_id}/grid.csv", "/api/meetings/plans/{plan_id}/meetings/{meeting_id}.pdf",
                   "/api/meetings/plans/{plan_id}/agenda.ics", "/api/meetings/plans/{plan_id}/publish")


def test_schema_covers_every_operation(api_schema):
    documented = {(m.upper(), p) for p, item in api_schema.raw_schema["paths"].items() for m in item}
    assert documented == set(OPERATIONS)
    for path in ("/api/search", "/api/match", "/api/bundles", "/api/licensees", "/api/admin/keys", "/api/demands"):
        body = api_schema.raw_schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ref = body["$ref"].rsplit("/", 1)[-1]
        assert api_schema.raw_schema["components"]["schemas"][ref].get("examples"), path
    for path, item in api_schema.raw_schema["paths"].items():
        for operation in item.values():
            assert ("security" in operation) == path.startswith("/api/"), path


CASES = [pytest.param(m, p, mode, id=f"{m} {p} {name}") for m, p in OPERATIONS
         for mode, name in ((GenerationMode.POSITIVE, "valid"), (GenerationMode.NEGATIVE, "invalid"))
         if not (p == "/health" and mode is GenerationMode.NEGATIVE)]  # /health takes no input to spoil


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_server_errors(api_schema, admin_key, method, path, mode):
    headers = {"Authorization": f"Bearer {admin_key[1]}"}
    statuses: list[int] = []

    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
        statuses.append(response.status_code)

    run()
    assert statuses and max(statuses) < 500
    # (an id drawn at random names no technology or key: 404 is the right answer there)
    if mode is GenerationMode.POSITIVE and path not in NO_200_REQUIRED:
        assert 200 in statuses, statuses  # valid input is served, not only refused
