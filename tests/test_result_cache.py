"""Identical recent requests are answered from a per-index-version cache; match + bundles score once."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from matcher.access import Viewer
from matcher.errors import ConfigError
from matcher.keys import KeyStore
from matcher.matching.demand import DemandMatcher
from service.app import create_app
from service.cache import ResultCache, canonical
from service.routes.match import demand_of
from service.schemas import MatchRequest
from service.settings import ServiceSettings
from service.state import Snapshot, load_engine

OFFICER = Viewer(role="officer", institution=None)
BOUND = Viewer(role="officer", institution="누리대학교 산학협력단")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_hits_misses_ttl_and_lru():
    clock = Clock()
    cache = ResultCache(maxsize=2, ttl=10, clock=clock)
    calls: list[str] = []

    def compute(value: str):
        return lambda: calls.append(value) or value

    assert cache.get_or_compute("search", OFFICER, {"query": "a"}, compute("a")) == "a"
    assert cache.get_or_compute("search", OFFICER, {"query": "a"}, compute("a2")) == "a"  # cached
    assert cache.get_or_compute("search", BOUND, {"query": "a"}, compute("b")) == "b"  # another viewer
    assert cache.get_or_compute("match", OFFICER, {"query": "a"}, compute("m")) == "m"  # another route; evicts
    assert calls == ["a", "b", "m"]
    assert cache.get_or_compute("search", OFFICER, {"query": "a"}, compute("a3")) == "a3"  # evicted (LRU of 2)
    clock.now = 11
    assert cache.get_or_compute("search", OFFICER, {"query": "a"}, compute("a4")) == "a4"  # expired
    assert len(cache) <= 2


def test_canonical_body_ignores_key_order():
    assert canonical({"b": 1, "a": [1, "가"]}) == canonical({"a": [1, "가"], "b": 1})


def test_identical_concurrent_requests_compute_once():
    cache = ResultCache()
    started = threading.Event()
    calls = []

    def slow() -> str:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return "answer"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.get_or_compute("m", OFFICER, {"t": 1}, slow)))
    first.start()
    started.wait()
    others = [threading.Thread(target=lambda: results.append(cache.get_or_compute("m", OFFICER, {"t": 1}, slow)))
              for _ in range(4)]
    for th in others:
        th.start()
    for th in [first, *others]:
        th.join()
    assert results == ["answer"] * 5 and len(calls) == 1


def test_errors_are_not_cached_and_waiters_recover():
    cache = ResultCache()

    def boom() -> str:
        raise RuntimeError("x")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("m", OFFICER, {}, boom)
    assert cache.get_or_compute("m", OFFICER, {}, lambda: "ok") == "ok"


def test_disabled_and_bad_settings(monkeypatch):
    cache = ResultCache(maxsize=0)
    calls = []
    for _ in range(2):
        cache.get_or_compute("m", OFFICER, {}, lambda: calls.append(1))
    assert len(calls) == 2
    monkeypatch.setenv("MATCHER_RESULT_CACHE_SIZE", "-3")
    with pytest.raises(ConfigError, match="MATCHER_RESULT_CACHE_SIZE"):
        ResultCache.from_env()
    monkeypatch.setenv("MATCHER_RESULT_CACHE_SIZE", "7")
    monkeypatch.setenv("MATCHER_RESULT_CACHE_TTL", "1.5")
    cache = ResultCache.from_env()
    assert (cache.maxsize, cache.ttl) == (7, 1.5)


@pytest.fixture(scope="module")
def served(fake_demo_index, tmp_path_factory, fake_encoders):
    keys_file = tmp_path_factory.mktemp("keys") / "keys.json"
    key = KeyStore(keys_file).create("officer")[0]
    settings = ServiceSettings(index=fake_demo_index, keys_file=keys_file, reload_interval=0)
    engine = load_engine(settings, dict(fake_encoders))
    app = create_app(settings, engine=engine)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        yield client, engine


def test_repeated_requests_come_from_the_snapshot_cache(served):
    client, engine = served
    snap = engine.snapshot
    body = {"query": "wearable biosignal monitoring", "top_k": 3}
    first = client.post("/api/search", json=body).json()
    hits = snap.results.hits
    assert client.post("/api/search", json={"top_k": 3, "query": "wearable biosignal monitoring"}).json() == first
    assert snap.results.hits == hits + 1
    other = client.post("/api/search", json={**body, "top_k": 2}).json()
    assert other == first[:2] and snap.results.hits == hits + 1  # another body: computed
    # a new index version (here: the same version re-wrapped) starts with an empty cache
    engine.swap(Snapshot.of(snap.version))
    assert len(engine.snapshot.results) == 0
    assert client.post("/api/search", json=body).json() == first
    assert engine.snapshot.results.hits == 0


def test_match_then_bundles_score_the_demand_once(served, monkeypatch):
    client, engine = served
    calls = []
    original = DemandMatcher.score_table

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DemandMatcher, "score_table", counted)
    demand = {"text": "웨어러블 심전도 패치와 물류 로봇의 실내 위치 추정 기술이 필요합니다"}
    match = client.post("/api/match", json={**demand, "top_k": 5})
    bundles = client.post("/api/bundles", json={**demand, "top_n": 3})
    assert match.status_code == 200 and bundles.status_code == 200
    assert len(calls) == 1
    assert client.post("/api/match", json={**demand, "top_k": 5}).json() == match.json()
    # the same answer as a matcher without any table cache
    _reqs, matches = DemandMatcher(engine.snapshot.version).match(demand_of(MatchRequest(**demand, top_k=5)), 5)
    assert [m.technology.id for m in matches] == [m["id"] for m in match.json()["matches"]]


def test_compute_slots_setting(monkeypatch):
    monkeypatch.setenv("MATCHER_COMPUTE_SLOTS", "1")
    cache = ResultCache(maxsize=0)
    assert cache._slots is not None and cache.get_or_compute("m", OFFICER, {}, lambda: 5) == 5
    monkeypatch.setenv("MATCHER_COMPUTE_SLOTS", "0")
    assert ResultCache()._slots is None
    monkeypatch.setenv("MATCHER_COMPUTE_SLOTS", "two")
    with pytest.raises(ConfigError, match="MATCHER_COMPUTE_SLOTS"):
        ResultCache()
