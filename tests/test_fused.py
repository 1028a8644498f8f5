"""The retriever's fast fusion (``retrieval/fused.py``: fused scores in few passes, parts computed only for the
documents shown) against the plain computation over whole arrays it replaced (``HybridRetriever._fuse_plain``,
``fusion.zscore_reference``): the same values, to the bit, for every document, and the same top k.

The corpus is synthetic and mixed: English and Korean documents, an English-only and a multilingual encoder
(query vectors from a table), so an English query has two routes with their own channels; exact (flat) and
approximate (HNSW, IVF) channels with small samples, every normalisation, filters large and small, ``within``
rows, and pipelines without a lexical channel or without a multilingual encoder."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pytest

from matcher.encoders.base import Encoder, EncoderIdentity
from matcher.retrieval.config import PipelineConfig
from matcher.retrieval.fitinputs import DenseVectors, DocumentEmbeddings
from matcher.retrieval.fused import sorted_unique, top_candidates, top_positive
from matcher.retrieval.fusion import centred_moments, zscore, zscore_reference
from matcher.retrieval.querycache import QueryVectorCache
from matcher.retrieval.retriever import HybridRetriever

N, CENTRES = 1200, 12
ENGLISH = [f"{a}{b}" for a in ("alp", "bet", "gam", "del", "eps", "zet") for b in ("on", "ar", "ix", "um", "el")]
KOREAN = [f"{a}{b}" for a in "가나다라마바사아" for b in "리소전판"]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# ------------------------------------------------------------------ fusion pieces
@pytest.mark.parametrize("size", [1, 2, 7, 8, 9, 127, 128, 129, 1000, 4097, 100_003])
def test_centred_moments_are_numpys_mean_and_std(size):
    rng = np.random.default_rng(size)
    for scale in (1e-3, 1.0, 37.0):
        values = (rng.random(size) * scale + rng.standard_normal() * scale).astype(np.float64)
        want = (float(values.mean()), float(values.std()))
        assert centred_moments(values.copy()) == want


@pytest.mark.parametrize("size", [0, 1, 5, 130, 5000, 100_001])
def test_zscore_equals_the_reference(size):
    rng = np.random.default_rng(size + 1)
    for dtype in (np.float32, np.float64):
        scores = np.where(rng.random(size) < 0.4, 0.0, rng.random(size) * 9).astype(dtype)
        with_nan = scores.copy()
        with_nan[rng.random(size) < 0.1] = np.nan
        masks = [np.ones(size, dtype=bool), rng.random(size) < 0.7, np.zeros(size, dtype=bool)]
        for values in (scores, with_nan, np.full(size, 2.5, dtype=dtype)):
            for mask in masks:
                assert same_bits(zscore(values, mask), zscore_reference(values, mask))


def test_sorted_unique_is_nps_unique():
    rng = np.random.default_rng(5)
    for size in (0, 1, 2, 50, 3000):
        values = rng.integers(0, 400, size)
        assert same_bits(sorted_unique(values), np.unique(values))


@pytest.mark.parametrize("share", [0.0, 0.001, 0.01, 0.2, 0.6, 1.0])
def test_top_positive_equals_the_listed_hits(share):
    rng = np.random.default_rng(int(share * 1000))
    n = 20_000
    values = np.where(rng.random(n) < share, rng.integers(1, 50, n) / 7, 0).astype(np.float32)
    for allowed in (None, rng.random(n) < 0.5):
        for take in (0, 1, 10, 200, 5000):
            hits = np.flatnonzero((values > 0) & (True if allowed is None else allowed))
            want = np.sort(hits[top_candidates(values[hits], take)])
            assert same_bits(np.sort(top_positive(values, allowed, take)), want)


# ------------------------------------------------------------------ the retriever, fast against plain
class TableEncoder(Encoder):
    """Query vectors looked up by text (documents are fitted from vectors given to ``fit_from``)."""

    def __init__(self, name: str, dimension: int, table: dict[str, np.ndarray]) -> None:
        self.identity = EncoderIdentity(name=name, backend="table", model="table", revision="1", dimension=dimension)
        self.table = table

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        raise AssertionError("documents are fitted from given vectors")

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return np.stack([self.table[t] for t in texts])


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class MixedCorpus:
    """A third of the documents Korean; clustered vectors per encoder; queries in both languages."""

    def __init__(self, seed: int = 11) -> None:
        rng = np.random.default_rng(seed)
        cluster = rng.integers(0, CENTRES, N)
        self.korean = rng.random(N) < 0.35
        self.texts = []
        for i in range(N):
            words = KOREAN if self.korean[i] else ENGLISH
            topic = words[(cluster[i] * 3) % len(words):][:6] or words[:6]
            self.texts.append(" ".join([*rng.choice(topic, 3), *rng.choice(words, 3)]))
        self.vectors: dict[str, np.ndarray] = {}
        self.tables: dict[str, dict[str, np.ndarray]] = {}
        self.queries = [" ".join(rng.choice(ENGLISH, 3)) for _ in range(6)] + \
                       [" ".join(rng.choice(KOREAN, 3)) for _ in range(6)] + ["zzz nothing matches"]
        for name, dimension in (("en", 16), ("multi", 24)):
            centres = unit(rng.standard_normal((CENTRES, dimension)))
            self.vectors[name] = unit(centres[cluster] + 0.2 * rng.standard_normal((N, dimension)))
            self.tables[name] = {q: unit(centres[rng.integers(0, CENTRES)][None]
                                         + 0.3 * rng.standard_normal((1, dimension)))[0] for q in self.queries}

    def retriever(self, backend: str, normalisation: str = "zscore", *, lexical: bool = True,
                  multi: bool = True) -> HybridRetriever:
        config = PipelineConfig(name="t", lexical=lexical, dense_en="en", dense_multi="multi" if multi else None,
                                translate=False, normalisation=normalisation, candidates=20,
                                weights={"ko": 0.7, "en-ko": 0.3, "en-en": 0.5})
        encoders = {name: TableEncoder(name, self.vectors[name].shape[1], self.tables[name])
                    for name in config.encoders}
        model = HybridRetriever(config, encoders, backend, query_cache=QueryVectorCache(), sample_size=300,
                                exact_rows=150)
        tokens = model.tokenize(self.texts)
        dense = {}
        for name in config.encoders:
            rows = model.document_rows(self.texts, name)
            dense[name] = DenseVectors(rows, self.vectors[name][rows])
        return model.fit_from(self.texts, tokens, DocumentEmbeddings(dense, None))


@pytest.fixture(scope="module")
def mixed() -> MixedCorpus:
    return MixedCorpus()


@pytest.fixture(scope="module")
def fitted(mixed):
    return functools.cache(mixed.retriever)


def masks() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    almost = np.ones(N, dtype=bool)
    almost[[3, 500]] = False
    return {"all": np.ones(N, dtype=bool), "almost": almost, "half": rng.random(N) < 0.5,
            "small": rng.random(N) < 0.08, "one": np.eye(1, N, 17, dtype=bool)[0]}


def assert_fast_equals_plain(model: HybridRetriever, text: str, mask: np.ndarray, within: np.ndarray | None) -> None:
    fast, plain = model._fuse(text, mask, within), model._fuse_plain(text, mask, within)
    assert same_bits(fast.extra, np.unique(model._exact_extras_plain(model.lexical_scores(text), mask, within)))
    assert same_bits(fast.fused, plain.fused)
    allowed = np.flatnonzero(mask)
    table = fast.table(allowed)
    for part in ("korean", "fused", "lexical_raw", "lexical_z", "w_lex_eff", "dense_raw", "dense_z", "w_dense",
                 "route"):
        assert same_bits(getattr(table, part), getattr(plain, part)[allowed]), part
    rows = np.flatnonzero(mask if within is None else mask & within)
    for k in (1, 5, 40, N):
        assert same_bits(fast.top(k, within), plain.top(rows, k)), k
    best = plain.top(rows, 10)
    assert model.search(text, 10, allowed=mask, within=within) == plain.hits(best)


@pytest.mark.parametrize("backend", ["flat", "hnsw", "ivf"])
@pytest.mark.parametrize("normalisation", ["zscore", "minmax", "rrf"])
def test_fast_fusion_equals_the_plain_one(mixed, fitted, backend, normalisation):
    model = fitted(backend, normalisation)
    within = np.random.default_rng(4).random(N) < 0.05
    for mask in masks().values():
        for text in mixed.queries:
            for rows in (None, within):
                assert_fast_equals_plain(model, text, mask, rows)


@pytest.mark.parametrize("backend", ["flat", "hnsw"])
@pytest.mark.parametrize("options", [{"lexical": False}, {"multi": False}])
def test_fast_fusion_equals_the_plain_one_without_a_channel(mixed, fitted, backend, options):
    model = fitted(backend, "zscore", **options)
    for mask in masks().values():
        for text in mixed.queries:
            assert_fast_equals_plain(model, text, mask, None)


def test_the_routes_have_their_classes(fitted):
    """An English query of the mixed corpus: English documents on one route, Korean ones on the other; without
    a multilingual encoder one route (the English encoder embeds every document) with two lexical weights."""
    model = fitted("hnsw", "zscore")
    classes = model._routes_of(False).classes
    assert sorted((c.route, c.scoped, c.w_lex) for c in classes) == [(0, True, 0.3), (1, True, 0.5)]
    assert sum(c.members.size for c in classes) == N
    assert [(c.route, c.w_lex) for c in model._routes_of(True).classes] == [(0, 0.7)]
    bare = fitted("hnsw", "zscore", multi=False)
    assert sorted((c.route, c.scoped, c.w_lex) for c in bare._routes_of(False).classes) == \
        [(0, True, 0.3), (0, True, 0.5)]


def test_search_pool_rows_equal_the_plain_table(mixed, fitted):
    """search_pool's second pass starts from the fast table of the pool; with exact channels the pool's rows are
    the plain table's rows."""
    model = fitted("flat", "zscore")
    mask = np.ones(N, dtype=bool)
    pool, hits = model.search_pool(mixed.queries[:4], 5)
    for text, got in zip(mixed.queries[:4], hits, strict=True):
        plain = model._fuse_plain(text, mask, None)
        assert got == plain.hits(np.asarray(pool))
