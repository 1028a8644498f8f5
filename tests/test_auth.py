"""API keys and confidential technologies: the auth matrix through every endpoint.

Roles: no key / unknown key → 401; officer → 403 on admin routes; admin everywhere. A confidential
technology (DEMO-0036, of 누리대학교 산학협력단) is seen by a key of its institution and by admins, and
by no one else through search, match, bundles, groups, technology detail, counts or error messages.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from matcher.keys import KeyStore
from service.app import create_app
from service.settings import ServiceSettings
from service.state import load_engine

OWNER = "누리대학교 산학협력단"
OTHER = "새솔대학교 산학협력단"   # owns DEMO-0046 (confidential), not DEMO-0036
SECRET = "DEMO-0036"
QUERY = "federated training of medical imaging models across hospitals without moving patient scans"
CONFIDENTIAL = ("DEMO-0023", "DEMO-0036", "DEMO-0046")

API_ROUTES = [
    ("get", "/api/me", None), ("get", "/api/index", None),
    ("post", "/api/search", {"query": QUERY}), ("post", "/api/match", {"text": QUERY}),
    ("post", "/api/bundles", {"text": QUERY}), ("get", "/api/groups", None),
    ("post", "/api/licensees", {"text": QUERY}), ("post", "/api/licensees", {"technology_id": "DEMO-0001"}),
    ("get", f"/api/technologies/{SECRET}", None), ("get", "/api/technologies/DEMO-0001", None),
    ("post", "/api/admin/reload", None), ("post", "/api/admin/keys", {"role": "officer"}),
    ("get", "/api/admin/keys", None),
]
ADMIN_ROUTES = [r for r in API_ROUTES if r[1].startswith("/api/admin")]


def _app(index, keys_file, encoders):
    settings = ServiceSettings(index=index, keys_file=keys_file, reload_interval=0)
    return create_app(settings, engine=load_engine(settings, encoders))


@pytest.fixture(scope="module")
def encoders(fake_encoders):
    return dict(fake_encoders)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    store = KeyStore(path)
    made = {name: store.create(role, inst)[0] for name, role, inst in [
        ("admin", "admin", None), ("officer", "officer", None), ("owner", "officer", OWNER),
        ("other", "officer", OTHER)]}
    return path, made


@pytest.fixture(scope="module")
def client(fake_demo_index, keys, encoders):
    with TestClient(_app(fake_demo_index, keys[0], encoders)) as c:
        yield c


@pytest.fixture(scope="module")
def secret_titles(fake_demo_index):
    from matcher.store import IndexStore

    rows = [json.loads(line) for line in (IndexStore(fake_demo_index).current_path() / "technologies.jsonl").open()]
    by_id = {r["id"]: r for r in rows}
    assert all(by_id[i]["confidential"] for i in CONFIDENTIAL)
    assert OWNER in by_id[SECRET]["institutions"] and OTHER not in by_id[SECRET]["institutions"]
    return {i: [t for t in (by_id[i]["title"], by_id[i]["title_en"]) if t] for i in CONFIDENTIAL}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def call(client, method, path, body, key=None):
    headers = auth(key) if key else {}
    return client.request(method.upper(), path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), API_ROUTES)
def test_no_key_or_wrong_key_is_401(client, method, path, body):
    for headers in ({}, auth("mk_not-a-key"), {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer "}):
        r = client.request(method.upper(), path, json=body, headers=headers)
        assert r.status_code == 401, (path, headers, r.text)
        assert r.headers.get("www-authenticate") == "Bearer"
        assert isinstance(r.json()["detail"], str)
        assert SECRET not in r.text


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_officer_cannot_call_admin_routes_admin_can(client, keys, method, path, body):
    for who in ("officer", "owner"):
        r = call(client, method, path, body, keys[1][who])
        assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = call(client, method, path, body, keys[1]["admin"])
    assert r.status_code == 200, r.text


def test_open_routes_need_no_key(client):
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert client.get("/").status_code == 200


def test_me(client, keys):
    assert call(client, "get", "/api/me", None, keys[1]["owner"]).json() == {"role": "officer", "institution": OWNER}
    assert call(client, "get", "/api/me", None, keys[1]["admin"]).json() == {"role": "admin", "institution": None}


def test_admin_creates_and_lists_keys(client, keys):
    made = call(client, "post", "/api/admin/keys", {"role": "officer", "institution": OWNER}, keys[1]["admin"]).json()
    assert made["key"].startswith("mk_") and made["institution"] == OWNER
    assert call(client, "get", "/api/me", None, made["key"]).json()["institution"] == OWNER
    listing = call(client, "get", "/api/admin/keys", None, keys[1]["admin"])
    assert made["id"] in {k["id"] for k in listing.json()}
    assert made["key"] not in listing.text and "sha256" not in listing.text
    assert all(made["key"].encode() not in f.read_bytes() for f in keys[0].parent.glob("state.sqlite*"))
    assert call(client, "post", "/api/admin/keys", {"role": "boss"}, keys[1]["admin"]).status_code == 422


def _responses(client, key):
    """Every read endpoint's response for a query that the confidential record answers best."""
    out = {
        "search": call(client, "post", "/api/search", {"query": QUERY, "top_k": 100}, key),
        "match": call(client, "post", "/api/match", {"text": QUERY, "top_k": 100}, key),
        "match-reqs": call(client, "post", "/api/match", {"requirements": [QUERY, "CRISPR 현장 진단", "태양광 ESS 충방전"],
                                                          "filters": {"institutions": [OWNER, OTHER]}}, key),
        "bundles": call(client, "post", "/api/bundles", {"requirements": [QUERY, "CRISPR 현장 진단", "태양광 ESS 충방전"],
                                                         "top_n": 20}, key),
        "groups": call(client, "get", "/api/groups", None, key),
        "licensees": call(client, "post", "/api/licensees",
                          {"text": QUERY, "top_k": 100, "include_institutions": True}, key),
        "detail": call(client, "get", f"/api/technologies/{SECRET}", None, key),
        "detail-licensees": call(client, "post", "/api/licensees", {"technology_id": SECRET}, key),
        "index": call(client, "get", "/api/index", None, key),
    }
    return out


def _ids(name, response):
    data = response.json()
    if name == "search":
        return {h["id"] for h in data}
    if name.startswith("match"):
        return {m["id"] for m in data["matches"]}
    if name == "bundles":
        return {m for b in data["bundles"] for m in b["members"]} | {c["member"] for b in data["bundles"]
                                                                     for c in b["coverage"]}
    if name == "groups":
        return {m for g in data for m in g["members"]}
    if name == "licensees":
        return {e["id"] for c in data["candidates"] for e in c["evidence"] if "id" in e}
    if name == "detail":
        return {data["id"]} if response.status_code == 200 else set()
    return set()


def test_owner_sees_its_confidential_record_everywhere(client, keys):
    got = _responses(client, keys[1]["owner"])
    assert got["detail"].status_code == 200 and got["detail"].json()["confidential"] is True
    assert got["detail-licensees"].status_code == 200, got["detail-licensees"].text
    for name in ("search", "match", "match-reqs", "bundles", "groups"):
        assert got[name].status_code == 200, got[name].text
        assert SECRET in _ids(name, got[name]), name
    assert got["search"].json()[0]["id"] == SECRET
    # …but not the other institutions' confidential records
    for name, r in got.items():
        assert not {"DEMO-0023", "DEMO-0046"} & _ids(name, r), name


def test_admin_sees_all_confidential_records(client, keys):
    got = _responses(client, keys[1]["admin"])
    assert SECRET in _ids("search", got["search"]) and got["detail"].status_code == 200
    assert set(CONFIDENTIAL) <= _ids("groups", got["groups"])
    assert got["index"].json()["count"] == len(client.app.state.engine.version.technologies)


@pytest.mark.parametrize("who", ["officer", "other"])
def test_others_never_see_it(client, keys, secret_titles, who):
    got = _responses(client, keys[1][who])
    hidden = set(CONFIDENTIAL) - ({"DEMO-0046"} if who == "other" else set())
    for name, r in got.items():
        assert not hidden & _ids(name, r), name
        for tech_id in hidden:
            for title in secret_titles[tech_id]:
                assert title not in r.text, (name, title)
        if not name.startswith("detail"):
            assert r.status_code == 200, (name, r.text)
            assert not hidden & set(r.text.split('"')), name
    # the same 404 for a hidden record and an absent one (no existence leak)
    absent = call(client, "get", "/api/technologies/DEMO-9999", None, keys[1][who])
    assert got["detail"].status_code == absent.status_code == got["detail-licensees"].status_code == 404
    assert got["detail"].json()["detail"].replace(SECRET, "X") == absent.json()["detail"].replace("DEMO-9999", "X")


def test_groups_recomputed_from_visible_members(client, keys):
    officer = {g["id"]: g for g in call(client, "get", "/api/groups", None, keys[1]["officer"]).json()}
    admin = {g["id"]: g for g in call(client, "get", "/api/groups", None, keys[1]["admin"]).json()}
    for gid, g in officer.items():
        assert g["size"] == len(g["members"]) and "centroid" not in g
        assert g["convergence"] == (len(g["institutions"]) >= 2)
        assert set(g["members"]) == set(admin[gid]["members"]) - set(CONFIDENTIAL)


@pytest.fixture(scope="module")
def public_only_client(demo_corpus, fake_demo_index, tmp_path_factory, keys, encoders):
    """The same corpus without its confidential records: what an outsider must not be able to tell apart."""
    from matcher.build import build_index
    from matcher.ingest import read_corpus

    corpus = read_corpus(demo_corpus)
    public = dataclasses.replace(corpus, technologies=[t for t in corpus.technologies if not t.confidential])
    path = tmp_path_factory.mktemp("public-index") / "index"
    build_index(public, path, encoders=encoders, cache_path=fake_demo_index / "embeddings.sqlite")
    with TestClient(_app(path, keys[0], encoders)) as c:
        yield c


def test_counts_do_not_reveal_confidential_records(client, public_only_client, keys):
    def counts(c, key):
        m = call(c, "get", "/api/index", None, key).json()
        return {"health": c.get("/health").json()["count"], "count": m["count"],
                "technologies": m["counts"]["technologies"], "retriever": m["retriever"]["count"],
                "rows": {n: e.get("rows") for n, e in m["retriever"]["dense"].items()},
                "terms": m["retriever"].get("bm25", {}).get("terms"), "hash": m.get("corpus_hash")}

    seen, without = counts(client, keys[1]["officer"]), counts(public_only_client, keys[1]["officer"])
    assert seen == without
    assert seen["count"] == len(client.app.state.engine.version.technologies) - len(CONFIDENTIAL)
    # a key of another institution counts its own confidential record (DEMO-0046) and nothing more
    other = counts(client, keys[1]["other"])
    assert other["health"] == without["health"] and other["count"] == without["count"] + 1
    assert counts(public_only_client, keys[1]["other"]) == without


@pytest.mark.slow  # runs the matcher command in subprocesses
def test_key_created_by_the_command_is_accepted_by_a_new_app(tmp_path, fake_demo_index, encoders):
    keys_file = tmp_path / "keys.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "service.cli", "keys", "create", "--role", "officer",
                          "--institution", "누리대", "--index", str(fake_demo_index), "--keys-file", str(keys_file),
                          "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)["key"]
    state = tmp_path / "state.sqlite"  # the keys live in the state database beside the keys file
    assert json.loads(out.stdout)["database"] == f"sqlite:///{state}" and not keys_file.exists()
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    assert all(key.encode() not in f.read_bytes() for f in tmp_path.glob("state.sqlite*"))
    assert json.loads(out.stdout)["institution"] == OWNER  # an alias is bound as the canonical name
    bad = subprocess.run([sys.executable, "-m", "service.cli", "keys", "create", "--role", "boss",
                          "--keys-file", str(keys_file)], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "officer" in bad.stderr and "admin" in bad.stderr
    unknown = subprocess.run([sys.executable, "-m", "service.cli", "keys", "create", "--role", "officer",
                              "--institution", "없는대학교", "--index", str(fake_demo_index), "--keys-file", str(keys_file)],
                             capture_output=True, text=True, env=env, timeout=120)
    assert unknown.returncode == 2 and "unknown institution" in unknown.stderr and OWNER in unknown.stderr
    with TestClient(_app(fake_demo_index, keys_file, encoders)) as c:
        assert call(c, "get", "/api/me", None, key).json() == {"role": "officer", "institution": OWNER}
        # a key created while the app runs is accepted too (the store is read on each request)
        later, _ = KeyStore(keys_file).create("admin")
        assert call(c, "get", "/api/admin/keys", None, later).status_code == 200


def test_binding_resolves_aliases_and_refuses_unknown_institutions(client, keys):
    """A key bound to a declared alias, another spelling or the English name sees its own confidential
    record; the admin API binds the canonical name and refuses an unknown institution, listing the known."""
    store = client.app.state.keys
    for spelling in ("누리대", "누리대학교산학협력단", "Nuri University Industry-Academic Cooperation Foundation"):
        key, _ = store.create("officer", spelling)  # as if bound before names were resolved
        found = call(client, "post", "/api/search", {"query": QUERY, "top_k": 5}, key).json()
        assert SECRET in {h["id"] for h in found}, spelling
    admin = keys[1]["admin"]
    made = call(client, "post", "/api/admin/keys", {"role": "officer", "institution": "Nuri Univ."}, admin).json()
    assert made["institution"] == OWNER
    bad = call(client, "post", "/api/admin/keys", {"role": "officer", "institution": "없는대학교"}, admin)
    assert bad.status_code == 422 and OWNER in bad.json()["detail"] and bad.json()["field"] == "institution"
