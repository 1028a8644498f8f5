"""The API over a demo index: in-process (TestClient) and as a real HTTP server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from matcher.keys import KeyStore
from service.app import create_app
from service.settings import ServiceSettings
from service.state import load_engine


@pytest.fixture(scope="module")
def index_dir(demo_index):
    return demo_index


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory):
    return tmp_path_factory.mktemp("keys") / "keys.json"


@pytest.fixture(scope="module")
def officer_key(keys_file):
    return KeyStore(keys_file).create("officer")[0]


@pytest.fixture(scope="module")
def client(index_dir, keys_file, officer_key, minilm, use_m3):
    settings = ServiceSettings(index=index_dir, keys_file=keys_file, reload_interval=0)
    app = create_app(settings, engine=load_engine(settings, {"minilm": minilm, "use-m3": use_m3}))
    with TestClient(app, headers={"Authorization": f"Bearer {officer_key}"}) as c:
        yield c


def test_health_and_index(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["count"] > 0
    manifest = client.get("/api/index").json()
    assert manifest["version"] == health["index_version"]


def test_search(client):
    r = client.post("/api/search", json={"query": "wearable biosignal monitoring", "top_k": 3})
    assert r.status_code == 200
    hits = r.json()
    assert len(hits) == 3 and {"id", "score", "title", "institutions"} <= set(hits[0])


@pytest.mark.parametrize(
    ("body", "field"),
    [({"query": ""}, "query"), ({"query": "x", "top_k": 0}, "top_k"), ({"query": "x", "top_k": 101}, "top_k"),
     ({"query": "x" * 5001}, "query"), ({}, "query")],
)
def test_bad_input_is_422_naming_the_field(client, body, field):
    r = client.post("/api/search", json=body)
    assert r.status_code == 422
    assert field in r.text


def test_page_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "app.js" in page.text
    assert client.get("/app.js").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_real_server(index_dir, keys_file, officer_key):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--index", str(index_dir), "--port", str(port),
         "--keys-file", str(keys_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
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
        assert httpx.post(f"{base}/api/search", json={"query": "antibody"}, timeout=30).status_code == 401
        r = httpx.post(f"{base}/api/search", json={"query": "antibody", "top_k": 2}, timeout=30,
                       headers={"Authorization": f"Bearer {officer_key}"})
        assert r.status_code == 200 and len(r.json()) == 2
        assert httpx.get(f"{base}/openapi.json", timeout=5).json()["info"]["title"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
