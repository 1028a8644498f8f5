"""The hardened service (issue 10, point 7): body-size limit and key check before the body is read,
no server paths for officers, errors naming the real field, calendar dates, one query-text check in the
CLI and the API, /docs offline, and the audit log. In-process (TestClient, raw ASGI) and against a real
server (raw sockets, so a test controls how much of a body is ever sent).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from matcher.errors import ConfigError, ValidationError
from matcher.keys import KeyStore
from matcher.matching.demand import filter_predicate
from matcher.records import Technology
from matcher.search import Searcher, check_demand_texts, check_query_text
from service.app import create_app
from service.errors import _field_of
from service.redact import PATH_KEYS, is_server_path, without_server_paths
from service.settings import DEFAULT_MAX_BODY_BYTES, ServiceSettings
from service.state import load_engine

LIMIT = 4096
TOO_LARGE = re.compile(r"^request body is (at least )?\d+ bytes; the limit is 4096 bytes \(MATCHER_MAX_BODY_BYTES\)$")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    path = tmp_path_factory.mktemp("hardening-keys") / "keys.json"
    store = KeyStore(path)
    made = {"officer": store.create("officer"), "admin": store.create("admin")}
    return path, {name: key for name, (key, _record) in made.items()}, {name: rec["id"] for name, (_k, rec) in made.items()}


@pytest.fixture(scope="module")
def engine(fake_demo_index, fake_encoders, keys):
    settings = ServiceSettings(index=fake_demo_index, keys_file=keys[0], reload_interval=0)
    return load_engine(settings, dict(fake_encoders))


def _client(fake_demo_index, keys, engine, **settings):
    values = {"index": fake_demo_index, "keys_file": keys[0], "reload_interval": 0, "max_body_bytes": LIMIT, **settings}
    return TestClient(create_app(ServiceSettings(**values), engine=engine))


@pytest.fixture(scope="module")
def client(fake_demo_index, keys, engine):
    with _client(fake_demo_index, keys, engine) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def officer(keys):
    return auth(keys[1]["officer"])


# ---------------------------------------------------------------------------------------- body size


def test_declared_body_over_the_limit_is_413_at_once(client, officer):
    body = json.dumps({"query": "robot " * 1000}).encode()
    r = client.post("/api/search", content=body, headers={**officer, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"detail": f"request body is {len(body)} bytes; the limit is {LIMIT} bytes "
                                  "(MATCHER_MAX_BODY_BYTES)", "error": "PayloadTooLarge"}
    # under the limit the same endpoint answers
    assert client.post("/api/search", json={"query": "indoor robot", "top_k": 2}, headers=officer).status_code == 200


def _streamed(consumed: list[int], chunk: int = 1024, total: int = 50_000_000):
    """A chunked body (no Content-Length) that records how much of it was read."""
    yield b'{"query": "'
    sent = 0
    while sent < total:
        consumed.append(chunk)
        sent += chunk
        yield b"a" * chunk


def test_streamed_body_is_cut_off_at_the_limit(client, officer):
    # TestClient itself reads a streamed body whole before the app sees it, so here only the answer is
    # checked; how little the app reads is measured with raw ASGI calls and against the real server below
    consumed: list[int] = []
    r = client.post("/api/search", content=_streamed(consumed, total=200_000),
                    headers={**officer, "Content-Type": "application/json"})
    assert r.status_code == 413 and TOO_LARGE.match(r.json()["detail"]), r.text
    assert r.json()["error"] == "PayloadTooLarge"


def test_no_key_is_401_before_the_body_is_read(client):
    consumed: list[int] = []
    r = client.post("/api/search", content=_streamed(consumed), headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"] == "AuthenticationError"
    assert consumed == []  # not one chunk was read
    consumed.clear()
    r = client.post("/api/search", content=_streamed(consumed), headers=auth("mk_not-a-key"))
    assert r.status_code == 401 and consumed == []


def _asgi_call(app, headers: list[tuple[bytes, bytes]], chunks: int = 50_000, chunk: int = 1024):
    """Call the ASGI app directly with a body of ``chunks`` chunks; (status, body, chunks read)."""
    read = 0
    sent: list[dict] = []

    async def receive():
        nonlocal read
        if read >= chunks:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": b"a" * chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/match", "raw_path": b"/api/match", "root_path": "", "query_string": b"",
             "headers": [(b"content-type", b"application/json"), *headers], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80), "state": {}}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), read


def test_raw_asgi_reads_nothing_without_a_key_and_at_most_the_limit_with_one(client, keys):
    app = client.app
    status, body, read = _asgi_call(app, [])
    assert (status, read) == (401, 0), body
    status, body, read = _asgi_call(app, [(b"authorization", f"Bearer {keys[1]['officer']}".encode())])
    assert status == 413 and body["error"] == "PayloadTooLarge" and read == LIMIT // 1024 + 1
    status, body, read = _asgi_call(app, [(b"authorization", f"Bearer {keys[1]['officer']}".encode()),
                                          (b"content-length", b"50000000")])
    assert status == 413 and read == 0 and body["detail"].startswith("request body is 50000000 bytes")


def test_concurrent_callers_keep_their_own_key(client, keys):
    """The checked caller rides in each request's scope: concurrent requests with different keys sharing one
    server ``state`` dict (as a server may pass) each get their own role."""
    shared_state: dict = {}

    async def me(key: str) -> dict:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                 "path": "/api/me", "raw_path": b"/api/me", "root_path": "", "query_string": b"",
                 "headers": [(b"authorization", f"Bearer {key}".encode())], "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 80), "state": shared_state}
        await client.app(scope, receive, send)
        return json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))

    async def many() -> list[dict]:
        return await asyncio.gather(*(me(keys[1]["admin" if i % 2 else "officer"]) for i in range(40)))

    roles = [r["role"] for r in asyncio.run(many())]
    assert roles == ["admin" if i % 2 else "officer" for i in range(40)]


def test_the_largest_valid_request_fits_the_default_limit():
    from matcher import settings
    from service.schemas import MatchRequest

    largest = {"text": "가" * settings.API_MAX_TEXT_CHARS,
               "requirements": ["나" * settings.API_MAX_REQUIREMENT_CHARS] * settings.API_MAX_REQUIREMENTS,
               "top_k": settings.API_MAX_TOP_K,
               "filters": {"institutions": ["다" * 200] * 50, "ipc_prefixes": ["G06N" * 5] * 50,
                           "legal_status": ["라" * 200] * 20, "date_from": "2000-01-01", "date_to": "2030-12-31",
                           "trl_min": 1, "trl_max": 9}}
    MatchRequest(**largest)  # valid: the schemas' limits are the settings' limits
    assert len(json.dumps(largest).encode()) < DEFAULT_MAX_BODY_BYTES  # \\uXXXX-escaped, as Python clients send
    assert DEFAULT_MAX_BODY_BYTES == 512 * 1024 > settings.LARGEST_REQUEST_BYTES  # the documented default
    assert ServiceSettings(index=Path("x")).max_body_bytes == DEFAULT_MAX_BODY_BYTES


# ---------------------------------------------------------------------------------------- server paths


def _strings(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_index_manifest_shows_officers_no_server_paths(client, officer, keys, fake_demo_index):
    admin = client.get("/api/index", headers=auth(keys[1]["admin"])).json()
    assert admin.get("corpus_dir")  # the build recorded where its corpus was: admins still see it
    assert any(is_server_path(s) for s in _strings(admin))
    seen = client.get("/api/index", headers=officer)
    assert seen.status_code == 200
    manifest = seen.json()
    assert not any(is_server_path(s) for s in _strings(manifest)), manifest
    assert not PATH_KEYS & {k.lower() for k in _strings(manifest)}
    assert str(fake_demo_index.parent) not in seen.text and os.sep + "site-packages" not in seen.text
    assert manifest["version"] and manifest["count"] > 0 and manifest["encoders"]


def test_technology_detail_shows_officers_only_the_source_file_name(client, officer, keys):
    mine = client.get("/api/technologies/DEMO-0001", headers=officer).json()
    admin = client.get("/api/technologies/DEMO-0001", headers=auth(keys[1]["admin"])).json()
    assert "/" in admin["source_file"] and mine["source_file"] == Path(admin["source_file"]).name
    assert {k: v for k, v in mine.items() if k != "source_file"} == {k: v for k, v in admin.items() if k != "source_file"}


def test_path_scrubber():
    scrubbed = without_server_paths({"a": "/srv/x", "b": ["C:\\data", "bm25.npz", "~/m"], "path": "rel/dir",
                                     "c": {"model": "../m", "name": "minilm"}, "n": 3})
    assert scrubbed == {"b": ["bm25.npz"], "c": {"name": "minilm"}, "n": 3}


# ---------------------------------------------------------------------------------------- field names


@pytest.mark.parametrize(("loc", "field"), [
    (("body", "query"), "query"), (("query", "top_k"), "top_k"), (("body", "filters", "date_from"), "filters.date_from"),
    (("body", "requirements", 1), "requirements.1"), (("body",), "body"), (("path", "tech_id"), "tech_id"),
    (("body", "filters", "query"), "filters.query"), ((), "body")])
def test_field_of_keeps_everything_after_the_location(loc, field):
    assert _field_of(loc) == field


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/search", {"query": "!!!"}, "query"), ("/api/search", {"query": ""}, "query"),
    ("/api/search", {"query": "x", "top_k": 0}, "top_k"),
    ("/api/match", {"requirements": ["robot", "??"]}, "requirements.1"),
    ("/api/match", {"text": "robot", "filters": {"date_from": "2020-13-45"}}, "filters.date_from"),
    ("/api/match", {"text": "robot", "filters": {"nope": 1}}, "filters.nope"),
])
def test_validation_errors_name_the_real_field(client, officer, path, body, field):
    r = client.post(path, json=body, headers=officer)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and r.json()["detail"].startswith(field + ": ")
    assert "Value error" not in r.json()["detail"]


# ---------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("path", ["/api/match", "/api/bundles"])
@pytest.mark.parametrize(("filters", "field"), [
    ({"date_from": "2020-13-45"}, "filters.date_from"), ({"date_to": "2021-02-30"}, "filters.date_to"),
    ({"date_from": "2021-1-5"}, "filters.date_from"),
    ({"date_from": "2022-01-01", "date_to": "2021-12-31"}, "filters.date_to"),
    ({"trl_min": 7, "trl_max": 3}, "filters.trl_max")])
def test_bad_dates_and_ranges_are_422(client, officer, path, filters, field):
    r = client.post(path, json={"text": "indoor robot localisation", "filters": filters}, headers=officer)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_good_date_range_is_accepted(client, officer):
    r = client.post("/api/match", json={"text": "indoor robot localisation", "top_k": 3,
                                        "filters": {"date_from": "2000-01-01", "date_to": "2000-01-01"}},
                    headers=officer)
    assert r.status_code == 200, r.text


def _tech(**over):
    return Technology(**{"id": "T-1", "title": "로봇", **over})


def test_library_dates_are_calendar_dates():
    assert _tech(application_date="2020-02-29").application_date == "2020-02-29"
    for bad in ("2020-13-45", "2021-02-29", "2020-1-1", "２０２０-01-01", "2020-01-01\n"):
        with pytest.raises(ValidationError) as exc:
            _tech(application_date=bad)
        assert exc.value.field == "application_date" and repr(bad) in str(exc.value)


@pytest.mark.parametrize(("filters", "field"), [
    ({"date_from": "2020-13-45"}, "filters.date_from"), ({"date_to": 20200101}, "filters.date_to"),
    ({"trl_min": "3"}, "filters.trl_min"), ({"trl_max": True}, "filters.trl_max"), ({"trl_min": 0}, "filters.trl_min"),
    ({"date_from": "2021-01-01", "date_to": "2020-01-01"}, "filters.date_to"),
    ({"trl_min": 5, "trl_max": 4}, "filters.trl_max")])
def test_filter_predicate_validates_dates_and_trl(filters, field):
    with pytest.raises(ValidationError) as exc:
        filter_predicate(filters)
    assert exc.value.field == field


def test_filter_predicate_still_filters():
    keep = filter_predicate({"date_from": "2020-01-01", "date_to": "2020-12-31", "trl_min": 3})
    assert keep is not None
    assert keep(_tech(application_date="2020-06-01", trl=4))
    assert not keep(_tech(application_date="2021-06-01", trl=4)) and not keep(_tech(application_date="2020-06-01"))


# ---------------------------------------------------------------------------------------- one query check


NO_WORDS = ["!!!", "   ", "?? -- …"]


@pytest.mark.parametrize("text", NO_WORDS)
@pytest.mark.parametrize(("path", "make", "field"), [
    ("/api/search", lambda t: {"query": t}, "query"),
    ("/api/match", lambda t: {"text": t}, "text"),
    ("/api/match", lambda t: {"requirements": ["robot", t]}, "requirements.1"),
    ("/api/bundles", lambda t: {"text": t}, "text"),
    ("/api/bundles", lambda t: {"requirements": [t]}, "requirements.0"),
    ("/api/licensees", lambda t: {"text": t}, "text"),
])
def test_text_without_words_is_refused_everywhere(client, officer, path, make, field, text):
    r = client.post(path, json=make(text), headers=officer)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_library_query_check(client):
    for text in NO_WORDS + ["", "x" * 21]:
        with pytest.raises(ValidationError) as exc:
            check_query_text(text, "query", limit=20)
        assert exc.value.field == "query"
    assert check_query_text("로봇 2대", "query") == "로봇 2대"
    with pytest.raises(ValidationError, match="no letters or digits"):
        Searcher(client.app.state.engine.version).search("!!!")
    check_demand_texts("", ["로봇"])
    with pytest.raises(ValidationError) as exc:
        check_demand_texts("로봇", ["ok", "!!"])
    assert exc.value.field == "requirements.1"
    with pytest.raises(ValidationError) as exc:
        check_demand_texts(None, [])
    assert exc.value.field == "text"


def test_cli_refuses_the_same_texts(tmp_path, demo_index):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    demand = tmp_path / "demand.json"
    demand.write_text(json.dumps({"requirements": ["robot", "!!"], "filters": {"date_to": "2020-13-45"}}))
    for args, reason in ((["search", "--index", str(demo_index), "!!!"], "query '!!!' has no letters or digits"),
                         (["match", "--index", str(demo_index), "--demand", str(demand)], "requirements.1"),
                         (["licensees", "--index", str(demo_index), "--text", "..."], "text '...' has no letters")):
        out = subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, env=env,
                             timeout=120)
        assert out.returncode == 2 and reason in out.stderr, (args, out.stderr)


# ---------------------------------------------------------------------------------------- /docs offline


def _local_assets(html: str) -> list[str]:
    urls = re.findall(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", html)
    return urls


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_work_offline(client, page):
    r = client.get(page)
    assert r.status_code == 200
    urls = _local_assets(r.text)
    assert urls and "/openapi.json" in urls
    assert not re.search(r"https?://|//cdn|jsdelivr|unpkg|googleapis", r.text.replace("http://www.w3.org", "")), r.text
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        got = client.get(url)
        assert got.status_code == 200 and len(got.content) > 100, url


# ---------------------------------------------------------------------------------------- audit log


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_audit_log_records_each_api_call(fake_demo_index, keys, engine, tmp_path):
    log = tmp_path / "audit" / "calls.jsonl"
    key = keys[1]["officer"]
    with _client(fake_demo_index, keys, engine, audit_log=log) as c:
        c.post("/api/search", json={"query": "secret robot plan", "top_k": 2}, headers=auth(key))
        c.get("/api/technologies/DEMO-0001", headers=auth(key))
        c.post("/api/match", json={"text": "classified demand"})  # no key
        c.get("/health")  # not /api: not audited
        c.get("/")
    lines = _lines(log)
    assert [(x["method"], x["route"], x["status"]) for x in lines] == [
        ("POST", "/api/search", 200), ("GET", "/api/technologies/{tech_id}", 200), ("POST", "/api/match", 401)]
    assert lines[0]["key_id"] == keys[2]["officer"] and lines[0]["role"] == "officer"
    assert lines[2]["key_id"] is None and lines[2]["role"] is None
    for x in lines:
        assert set(x) >= {"time", "key_id", "role", "method", "route", "status", "latency_ms"}
        assert isinstance(x["latency_ms"], float) and x["latency_ms"] >= 0
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", x["time"])
    text = log.read_text()
    assert key not in text and "Bearer" not in text and "sha256" not in text
    assert "secret robot plan" not in text and "classified demand" not in text  # audit_queries is off
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_audit_log_records_query_texts_only_when_allowed(fake_demo_index, keys, engine, tmp_path):
    log = tmp_path / "audit.jsonl"
    with _client(fake_demo_index, keys, engine, audit_log=log, audit_queries=True) as c:
        c.post("/api/search", json={"query": "indoor robot", "top_k": 1}, headers=auth(keys[1]["officer"]))
        c.post("/api/match", json={"text": "배터리 관리", "requirements": ["SLAM"]}, headers=auth(keys[1]["officer"]))
        c.post("/api/admin/keys", json={"role": "officer"}, headers=auth(keys[1]["admin"]))
    lines = _lines(log)
    assert lines[0]["query"] == {"query": "indoor robot"}
    assert lines[1]["query"] == {"text": "배터리 관리", "requirements": ["SLAM"]}
    assert "query" not in lines[2] and "mk_" not in log.read_text()  # a created key is never logged


def test_audit_log_can_be_disabled(fake_demo_index, keys, engine, tmp_path):
    settings = ServiceSettings(index=fake_demo_index, keys_file=tmp_path / "k" / "keys.json", audit_log="")
    assert settings.audit_log is None
    with TestClient(create_app(settings, engine=engine)) as c:
        assert c.get("/api/me").status_code == 401
    assert not (tmp_path / "k" / "audit.jsonl").exists()  # (the directory holds the state database)


def test_settings_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_KEYS_FILE", str(tmp_path / "var" / "keys.json"))
    for name in ("MATCHER_AUDIT_LOG", "MATCHER_AUDIT_QUERIES", "MATCHER_MAX_BODY_BYTES"):
        monkeypatch.delenv(name, raising=False)
    s = ServiceSettings.from_env()
    assert s.audit_log == tmp_path / "var" / "audit.jsonl" and s.audit_queries is False
    assert s.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    monkeypatch.setenv("MATCHER_AUDIT_LOG", "")
    monkeypatch.setenv("MATCHER_AUDIT_QUERIES", "true")
    monkeypatch.setenv("MATCHER_MAX_BODY_BYTES", "1000")
    s = ServiceSettings.from_env()
    assert s.audit_log is None and s.audit_queries is True and s.max_body_bytes == 1000
    monkeypatch.setenv("MATCHER_AUDIT_LOG", str(tmp_path / "a.jsonl"))
    assert ServiceSettings.from_env().audit_log == tmp_path / "a.jsonl"
    for name, value in (("MATCHER_MAX_BODY_BYTES", "64k"), ("MATCHER_MAX_BODY_BYTES", "0"),
                        ("MATCHER_AUDIT_QUERIES", "maybe")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=name.removeprefix("MATCHER_").lower() + "|" + name):
            ServiceSettings.from_env()
        monkeypatch.setenv(name, {"MATCHER_MAX_BODY_BYTES": "1000", "MATCHER_AUDIT_QUERIES": "0"}[name])


def test_key_store_authenticate_gives_the_record(keys):
    record, viewer = KeyStore(keys[0]).authenticate(keys[1]["admin"])
    assert record["id"] == keys[2]["admin"] and "sha256" not in record and viewer.is_admin
    assert KeyStore(keys[0]).authenticate("mk_nope") is None


# ---------------------------------------------------------------------------------------- a real server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict]:
    """Read one HTTP response (status, JSON body) from ``sock``."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(head.split()[1]), json.loads(body[:length])


def _send_rest(sock: socket.socket, total: int) -> int:
    """Go on sending up to ``total`` bytes; how many the server let through before it closed."""
    sent, block = 0, b"a" * (1 << 20)
    try:
        while sent < total:
            sock.sendall(block)
            sent += len(block)
    except OSError:
        pass
    return sent


@pytest.fixture(scope="module")
def server(demo_index, keys, tmp_path_factory):
    port = _free_port()
    audit = tmp_path_factory.mktemp("server-audit") / "audit.jsonl"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MATCHER_MAX_BODY_BYTES": str(LIMIT), "MATCHER_AUDIT_LOG": str(audit)}
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--index", str(demo_index), "--port",
                             str(port), "--keys-file", str(keys[0])], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "server exited"
            assert time.time() < deadline, "server did not start within 120 s"
            time.sleep(0.5)
        yield {"base": base, "port": port, "pid": proc.pid, "audit": audit}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _open(port: int, head: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head.encode("latin-1"))
    return sock


def test_real_server_answers_a_50mb_post_before_reading_it(server, keys):
    size = 50_000_000
    before = _rss_kb(server["pid"])
    # no key: 401 after the headers and 1 KiB, the other 49.99 MB never sent
    sock = _open(server["port"], f"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 f"Content-Length: {size}\r\n\r\n")
    with sock:
        sock.sendall(b'{"query": "' + b"a" * 1024)
        started = time.perf_counter()
        status, body = _response(sock)
        assert status == 401 and body["error"] == "AuthenticationError"
        assert time.perf_counter() - started < 5
        _send_rest(sock, size)  # whatever the client insists on sending is dropped, not kept
    # a valid key but a declared 50 MB: 413 at once
    sock = _open(server["port"], f"POST /api/match HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {keys[1]['officer']}\r\n"
                                 f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n")
    with sock:
        status, body = _response(sock)
        assert status == 413 and body == {"detail": f"request body is {size} bytes; the limit is {LIMIT} bytes "
                                                    "(MATCHER_MAX_BODY_BYTES)", "error": "PayloadTooLarge"}
        assert _send_rest(sock, size) < size  # the server closed the connection
    # a valid key, chunked: cut off once past the limit, before the body ends
    sock = _open(server["port"], f"POST /api/search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {keys[1]['officer']}\r\n"
                                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    with sock:
        for _ in range(8):
            sock.sendall(b"400\r\n" + b"a" * 1024 + b"\r\n")
        status, body = _response(sock)
        assert status == 413 and TOO_LARGE.match(body["detail"]), body
    assert _rss_kb(server["pid"]) - before < 40_000, "the server grew by the body it should not have read"
    # and the service still answers
    r = httpx.post(f"{server['base']}/api/search", json={"query": "antibody", "top_k": 1}, timeout=30,
                   headers=auth(keys[1]["officer"]))
    assert r.status_code == 200 and len(r.json()) == 1


def test_real_server_docs_and_audit(server, keys):
    base = server["base"]
    docs = httpx.get(f"{base}/docs", timeout=10)
    assert docs.status_code == 200
    for url in _local_assets(docs.text):
        assert httpx.get(base + url, timeout=10).status_code == 200, url
    assert httpx.get(f"{base}/api/groups", timeout=10).status_code == 401
    assert httpx.get(f"{base}/api/me", headers=auth(keys[1]["admin"]), timeout=10).status_code == 200
    audit: Path = server["audit"]
    deadline = time.time() + 5
    while time.time() < deadline and not (audit.is_file() and "/api/me" in audit.read_text(encoding="utf-8")):
        time.sleep(0.1)
    lines = _lines(audit)
    me = [x for x in lines if x["route"] == "/api/me"][-1]
    assert me["key_id"] == keys[2]["admin"] and me["role"] == "admin" and me["status"] == 200
    assert ("/api/groups", 401) in {(x["route"], x["status"]) for x in lines}
    assert not any(k in audit.read_text() for k in keys[1].values())
