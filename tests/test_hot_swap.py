"""Hot swap: a running server switches to a newly published index version without a restart, and
queries issued continuously while it happens all succeed."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from matcher.keys import KeyStore
from service.app import create_app
from service.settings import ServiceSettings
from service.state import load_engine

CHANGED = "DEMO-0001"
MARK = "초전도 양자 얽힘 분광기"  # words in no demo record: only the new version's DEMO-0001 has them


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def server(demo_index, tmp_path, minilm, use_m3):
    """A real uvicorn server (in a thread) over a copy of the demo index, polling for new versions."""
    index = tmp_path / "index"
    shutil.copytree(demo_index, index)
    keys_file = tmp_path / "keys.json"
    key, _ = KeyStore(keys_file).create("officer")
    settings = ServiceSettings(index=index, keys_file=keys_file, reload_interval=0.2)
    app = create_app(settings, engine=load_engine(settings, {"minilm": minilm, "use-m3": use_m3}))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started:
        assert thread.is_alive() and time.time() < deadline, "server did not start"
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "key": key, "index": index, "app": app}
    srv.should_exit = True
    thread.join(timeout=30)


def test_queries_during_a_hot_swap_all_succeed(server, demo_corpus, minilm, use_m3):
    from matcher.build import build_index
    from matcher.ingest import read_corpus

    base, headers = server["base"], {"Authorization": f"Bearer {server['key']}"}
    old = httpx.get(f"{base}/health", timeout=10).json()["index_version"]
    stop = threading.Event()
    results: list[tuple[int, str | None]] = []
    errors: list[str] = []

    def worker(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            i = 0
            while not stop.is_set():
                try:
                    if (i + n) % 3 == 0:
                        r = client.post("/api/match", json={"text": "실내 이동로봇 위치 추정", "top_k": 3})
                    else:
                        r = client.post("/api/search", json={"query": "wearable biosignal " + MARK, "top_k": 3})
                    version = client.get("/health").json()["index_version"]
                    results.append((r.status_code, version))
                except httpx.HTTPError as exc:  # a dropped connection is a failure too
                    errors.append(repr(exc))
                i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        corpus = read_corpus(demo_corpus)
        techs = [dataclasses.replace(t, title=f"{t.title} {MARK}", content_hash="") if t.id == CHANGED else t
                 for t in corpus.technologies]
        new = build_index(dataclasses.replace(corpus, technologies=techs), server["index"],
                          encoders={"minilm": minilm, "use-m3": use_m3}).version
        assert new != old
        deadline = time.time() + 120
        while httpx.get(f"{base}/health", timeout=10).json()["index_version"] != new:
            assert time.time() < deadline, "the server did not switch to the new version within 120 s"
            time.sleep(0.1)
        time.sleep(1.0)  # keep querying on the new version for a while
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)

    assert not errors, errors[:3]
    assert len(results) >= 10, "too few queries overlapped the swap"
    assert results and all(status == 200 for status, _ in results), [s for s, _ in results if s != 200][:5]
    served = [v for _, v in results]
    assert served[0] == old and served[-1] == new and set(served) == {old, new}
    hits = httpx.post(f"{base}/api/search", json={"query": MARK, "top_k": 1}, headers=headers, timeout=30).json()
    assert hits[0]["id"] == CHANGED and MARK in hits[0]["title"]
    assert server["app"].state.engine.snapshot.name == new


def test_a_version_that_fails_to_load_keeps_the_old_one_serving(server):
    base = server["base"]
    old = httpx.get(f"{base}/health", timeout=10).json()["index_version"]
    engine = server["app"].state.engine
    broken = server["index"] / "versions" / "v99999999T000000.000000-broken"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"format_version": 1, "version": "broken"', encoding="utf-8")
    (server["index"] / "CURRENT").write_text(broken.name + "\n", encoding="utf-8")
    deadline = time.time() + 10
    while engine.last_error is None:
        assert time.time() < deadline, "the poller did not try the new version"
        time.sleep(0.05)
    assert "manifest.json" in engine.last_error
    assert httpx.get(f"{base}/health", timeout=10).json()["index_version"] == old
    r = httpx.post(f"{base}/api/search", json={"query": "antibody", "top_k": 1}, timeout=30,
                   headers={"Authorization": f"Bearer {server['key']}"})
    assert r.status_code == 200
