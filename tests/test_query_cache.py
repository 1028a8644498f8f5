"""Query-side caches: a text is encoded once across searches, prepare() batches, results do not change."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from matcher.encoders.base import Encoder
from matcher.lru import LRU
from matcher.retrieval.config import resolve_pipeline
from matcher.retrieval.querycache import QueryVectorCache
from matcher.retrieval.retriever import HybridRetriever

DOCS = [
    "자율주행 이동로봇의 실내 위치 추정을 위한 LiDAR 기반 SLAM 방법",
    "리튬이온 배터리의 충전 상태를 추정하는 배터리 관리 시스템",
    "항체 약물 접합체를 포함하는 암 치료용 조성물",
    "A wearable patch that monitors heart rate and skin temperature",
    "Deep learning model for detecting defects in semiconductor wafers",
    "물류 창고에서 다수의 이동로봇 경로를 계획하는 방법",
]
QUERIES = ["배터리 충전 상태 추정", "battery state of charge estimation", "wafer defect detection", "이동로봇 경로"]


class Counting(Encoder):
    """Wraps an encoder and records every ``encode_queries`` call (one list of texts per call)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.calls: list[list[str]] = []
        self.lock = threading.Lock()

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self.inner.encode_documents(texts, progress=progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        with self.lock:
            self.calls.append(list(texts))
        return self.inner.encode_queries(texts, progress=progress)

    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


@pytest.fixture()
def counted(minilm, use_m3):
    """A fitted retriever with counting encoders and its own (empty) query-vector cache."""
    encoders = {"minilm": Counting(minilm), "use-m3": Counting(use_m3)}
    retriever = HybridRetriever(resolve_pipeline("hybrid"), encoders, query_cache=QueryVectorCache()).fit(DOCS)
    for enc in encoders.values():
        enc.calls.clear()
    return retriever, encoders


def test_same_text_encoded_once_across_searches(counted):
    retriever, encoders = counted
    for _ in range(3):
        for q in QUERIES:
            retriever.search(q, 3)
    for enc in encoders.values():
        seen = enc.encoded()
        assert len(seen) == len(set(seen)), f"{enc.identity.name} re-encoded {seen}"
    assert set(encoders["use-m3"].encoded()) >= set(QUERIES)
    assert "battery state of charge estimation" in encoders["minilm"].encoded()  # English documents exist


def test_prepare_is_one_call_per_encoder(counted):
    retriever, encoders = counted
    texts = ["배터리 관리와 이동로봇 위치 추정", "배터리 관리", "mobile robot localisation"]
    retriever.prepare(texts)
    assert len(encoders["use-m3"].calls) == 1 and len(encoders["minilm"].calls) == 1
    assert set(texts) <= set(encoders["use-m3"].calls[0])
    assert encoders["minilm"].calls[0] == ["mobile robot localisation"]  # Korean texts skip the English encoder
    assert {"mobile", "robot"} <= set(encoders["use-m3"].calls[0])  # words the term translator looks up
    before = {name: len(enc.calls) for name, enc in encoders.items()}
    for t in texts:
        retriever.search(t, 3)
    assert {name: len(enc.calls) for name, enc in encoders.items()} == before  # all from the cache


def test_results_identical_with_and_without_cache(minilm, use_m3):
    encoders = {"minilm": minilm, "use-m3": use_m3}
    cached = HybridRetriever(resolve_pipeline("hybrid"), encoders, query_cache=QueryVectorCache()).fit(DOCS)
    uncached = HybridRetriever(resolve_pipeline("hybrid"), encoders, query_cache=QueryVectorCache(0)).fit(DOCS)
    cached._terms_cache = LRU(4096)
    uncached._terms_cache = LRU(0)
    for _ in range(2):
        for q in QUERIES:
            a = [(h.position, h.score, h.components) for h in cached.search(q, 6)]
            b = [(h.position, h.score, h.components) for h in uncached.search(q, 6)]
            assert a == b
    assert len(uncached.query_cache.lru) == 0 and cached.query_cache.lru.hits > 0


def test_cached_terms_and_vectors_cannot_be_changed_by_callers(counted):
    retriever, _ = counted
    terms = retriever.query_terms("battery management")
    terms["bogus"] = 99.0
    assert "bogus" not in retriever.query_terms("battery management")
    vec = retriever.query_vectors("use-m3", ["배터리"])
    vec[0, :] = 0.0  # a stacked copy
    assert np.abs(retriever.query_vectors("use-m3", ["배터리"])).sum() > 0


def test_concurrent_searches_agree(counted):
    retriever, _ = counted
    expected = {q: [(h.position, h.score) for h in retriever.search(q, 4)] for q in QUERIES}
    retriever.query_cache.lru.clear()
    got: list[tuple[str, list[tuple[int, float]]]] = []

    def run(q: str) -> None:
        got.append((q, [(h.position, h.score) for h in retriever.search(q, 4)]))

    threads = [threading.Thread(target=run, args=(q,)) for q in QUERIES * 4]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(got) == len(QUERIES) * 4
    for q, hits in got:
        assert hits == expected[q]


def test_lru_bounds_and_evicts_least_recent():
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1
    lru.put("c", 3)  # evicts b, the least recently used
    assert lru.get("b") is None and lru.get("a") == 1 and lru.get("c") == 3 and len(lru) == 2
    off: LRU[str, int] = LRU(0)
    off.put("a", 1)
    assert off.get("a") is None
    with pytest.raises(ValueError, match="cache size"):
        LRU(-1)


def test_encode_slots_validated():
    with pytest.raises(ValueError, match="encode slots"):
        QueryVectorCache(encode_slots=0)


def test_translations_are_kept_per_word(counted):
    retriever, encoders = counted
    translator = retriever.translator_
    assert translator is not None
    first = retriever.query_terms("battery charge estimation")
    retriever._terms_cache.clear()
    hits = translator._translations.hits
    assert retriever.query_terms("battery charge estimation") == first
    assert translator._translations.hits >= hits + 3  # battery, charge, estimation


class Fixed(Encoder):
    """A model-free encoder: every query vector is ``value`` along the first axis, documents along the second;
    ``variant`` its query variant (as a sentence-transformers encoder whose queries run int8)."""

    def __init__(self, value: float, variant: str = "") -> None:
        from matcher.encoders.base import EncoderIdentity

        self.value = value
        self.variant = variant
        self.identity = EncoderIdentity(name="fixed", backend="test", model="fixed", revision="1", dimension=2)

    @property
    def query_variant(self) -> str:
        return self.variant

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return np.tile(np.array([0.0, 1.0], dtype=np.float32), (len(texts), 1))

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return np.tile(np.array([self.value, 0.0], dtype=np.float32), (len(texts), 1))


def test_a_query_variant_keeps_its_query_vectors_apart(tmp_path):
    """Same identity (documents and indexes shared), other query vectors: the embedding cache and the
    query-vector cache never hand one runtime's query vectors to the other."""
    from matcher.encoders.cache import CachedEncoder, EmbeddingCache

    plain, int8 = Fixed(1.0), Fixed(-1.0, "onnx-int8-v3")
    assert plain.identity.key == int8.identity.key and plain.query_key == plain.identity.key
    assert int8.query_key == f"{int8.identity.key}+onnx-int8-v3"
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first, second = CachedEncoder(plain, cache), CachedEncoder(int8, cache)
    assert second.query_key == int8.query_key
    assert first.encode_queries(["q"])[0, 0] == 1.0 and second.encode_queries(["q"])[0, 0] == -1.0
    first.encode_documents(["d"])
    second.encode_documents(["d"])
    assert (first.embedded, second.embedded) == (2, 1)  # the document vector is shared, the query vectors not
    vectors = QueryVectorCache()
    assert vectors.vectors(plain, ["q"])[0, 0] == 1.0 and vectors.vectors(int8, ["q"])[0, 0] == -1.0
