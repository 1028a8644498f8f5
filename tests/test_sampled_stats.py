"""Approximate dense channels normalised with sampled statistics (``retrieval/sample.py``, the retriever's
approximate path) against exact fusion over the same vectors: equal with a sample as large as the channel,
recall@10 ≥ 0.95 with a small one, filtered small sets and ``within`` rows exact, save/load round trip.

The corpus is synthetic: clustered unit vectors (like text embeddings) and BM25 tokens drawn from words of
each document's cluster, so the two channels agree in part, as they do on real text. Query vectors come
from a table (no model)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from matcher.encoders.base import Encoder, EncoderIdentity
from matcher.retrieval.config import PipelineConfig
from matcher.retrieval.fitinputs import DenseVectors, DocumentEmbeddings, DocumentTokens
from matcher.retrieval.fusion import ChannelStats, describe, minmax, minmax_with, zscore, zscore_with
from matcher.retrieval.querycache import QueryVectorCache
from matcher.retrieval.retriever import HybridRetriever, top_candidates
from matcher.retrieval.sample import DEFAULT_SAMPLE_SIZE, sample_rows

N, D, CENTRES, QUERIES, VOCABULARY = 2000, 32, 40, 40, 600


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class TableEncoder(Encoder):
    """Query vectors looked up by text (documents are fitted from vectors given to ``fit_from``)."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.identity = EncoderIdentity(name="vec", backend="table", model="table", revision="1", dimension=D)
        self.table = table

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        raise AssertionError("documents are fitted from given vectors")

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return np.stack([self.table[t] for t in texts])


class Corpus:
    def __init__(self, seed: int = 3) -> None:
        rng = np.random.default_rng(seed)
        centres = unit(rng.standard_normal((CENTRES, D)))
        cluster = rng.integers(0, CENTRES, N)
        self.vectors = unit(centres[cluster] + 0.15 * rng.standard_normal((N, D)))
        topic = rng.permutation(VOCABULARY)[: CENTRES * 12].reshape(CENTRES, 12)  # each cluster's own words
        self.tokens = [[f"w{w}" for w in (*rng.choice(topic[c], 4), *rng.integers(0, VOCABULARY, 4))]
                       for c in cluster]
        self.texts = [" ".join(t) for t in self.tokens]
        self.queries: dict[str, np.ndarray] = {}
        for i in range(QUERIES):
            c = int(rng.integers(0, CENTRES))
            words = [f"w{w}" for w in rng.choice(topic[c], 2)] + [f"w{rng.integers(0, VOCABULARY)}", f"q{i}"]
            self.queries[" ".join(words)] = unit(centres[c][None] + 0.25 * rng.standard_normal((1, D)))[0]

    def retriever(self, backend: str, *, sample_size: int = DEFAULT_SAMPLE_SIZE, exact_rows: int = 20_000,
                  normalisation: str = "zscore", lexical: bool = True) -> HybridRetriever:
        """A retriever fitted on this corpus (a fresh one: tests may change it)."""
        config = PipelineConfig(name="t", lexical=lexical, dense_en="vec", dense_multi="vec", translate=False,
                                normalisation=normalisation)
        model = HybridRetriever(config, {"vec": TableEncoder(self.queries)}, backend, query_cache=QueryVectorCache(),
                                sample_size=sample_size, exact_rows=exact_rows)
        tokens = DocumentTokens(self.tokens if lexical else None, [])
        dense = DocumentEmbeddings({"vec": DenseVectors(np.arange(N, dtype=np.int64), self.vectors)})
        return model.fit_from(self.texts, tokens, dense)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus()


@pytest.fixture(scope="module")
def fitted(corpus: Corpus) -> Callable[..., HybridRetriever]:
    """``fitted(backend, **options)``: a retriever fitted once per module for each set of options (read-only)."""
    return functools.cache(corpus.retriever)


@pytest.fixture(scope="module")
def exact(fitted) -> HybridRetriever:
    return fitted("flat")


def top(model: HybridRetriever, text: str, k: int = 10, **kwargs) -> tuple[list[int], np.ndarray]:
    hits = model.search(text, k, **kwargs)
    return [h.position for h in hits], np.array([h.score for h in hits])


# ------------------------------------------------------------------ fusion with precomputed statistics
def test_stat_normalisers_equal_the_plain_ones():
    scores = np.array([0.9, 0.2, np.nan, 0.5, -0.1], dtype=np.float32)
    mask = np.array([True, True, True, True, False])
    stats = describe(scores[mask & ~np.isnan(scores)])
    np.testing.assert_array_equal(zscore_with(scores, mask, stats), zscore(scores, mask))
    np.testing.assert_array_equal(minmax_with(scores, mask, stats), minmax(scores, mask))
    estimate = ChannelStats(mean=0.5, std=0.25, low=0.0, high=1.0, fill=0.25)
    z = zscore_with(scores, mask, estimate)
    assert z[2] == pytest.approx(-1.0) and z[4] == 0.0  # unscored: fill's z-score; outside the mask: 0
    assert minmax_with(scores, mask, estimate)[2] == pytest.approx(0.25)


# ------------------------------------------------------------------ the sample
def test_sample_is_deterministic_and_stable():
    positions = np.arange(10_000, dtype=np.int64)
    rows = sample_rows(positions, 500)
    assert rows.size == 500 and np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, sample_rows(positions, 500))
    grown = sample_rows(np.arange(10_500, dtype=np.int64), 500)  # 5 % more documents: most of the sample stays
    assert np.intersect1d(rows, grown).size >= 450
    np.testing.assert_array_equal(sample_rows(positions[:100], 500), np.arange(100))  # fewer: all of them
    subset = np.arange(0, 20_000, 2, dtype=np.int64)  # rows index into the positions given
    assert set(subset[sample_rows(subset, 50)]) <= set(subset)


# ------------------------------------------------------------------ top-k selection with many ties
@pytest.mark.parametrize("n", [0, 1, 39, 41, 5000, 100_000])
def test_top_candidates_keeps_every_tie_of_the_kth(n):
    rng = np.random.default_rng(n)
    kinds = [rng.standard_normal(n), np.where(rng.random(n) < 0.97, -1.0, rng.standard_normal(n)),  # one estimate
             np.zeros(n), np.round(rng.standard_normal(n), 1)]
    for values in kinds:
        for take in (1, 10, 100):
            want = np.arange(n) if take >= n else np.flatnonzero(values >= np.sort(values)[n - take])
            np.testing.assert_array_equal(np.sort(top_candidates(values, take)), want)


# ------------------------------------------------------------------ (a) a full sample is exact fusion
@pytest.mark.parametrize("backend", ["hnsw", "ivf"])
@pytest.mark.parametrize("normalisation", ["zscore", "minmax"])
def test_full_sample_equals_exact_fusion(corpus, fitted, backend, normalisation):
    reference = fitted("flat", normalisation=normalisation)
    sampled = fitted(backend, sample_size=N, normalisation=normalisation)
    assert len(sampled.samples_["vec"]) == N
    for text in corpus.queries:
        got, got_scores = top(sampled, text, 20)
        want, want_scores = top(reference, text, 20)
        assert got == want, text
        np.testing.assert_allclose(got_scores, want_scores, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ (b) a small sample: recall@10 ≥ 0.95
@pytest.mark.parametrize("lexical", [True, False])
def test_small_sample_recall_against_exact_fusion(corpus, fitted, lexical):
    reference = fitted("flat", lexical=lexical)
    sampled = fitted("hnsw", sample_size=256, lexical=lexical)
    assert len(sampled.samples_["vec"]) == 256
    shares = [len(set(top(sampled, q)[0]) & set(top(reference, q)[0])) / 10 for q in corpus.queries]
    assert np.mean(shares) >= 0.95, np.mean(shares)
    hit = sampled.search(next(iter(corpus.queries)), 1)[0]
    assert hit.components["dense"] is not None  # the best document was scored exactly


def test_an_empty_sample_falls_back_to_the_candidates(corpus, fitted):
    model = fitted("hnsw", sample_size=0)
    assert len(model.samples_["vec"]) == 0
    assert len(model.search(next(iter(corpus.queries)), 10)) == 10


# ------------------------------------------------------------------ (c) filters
def test_small_filtered_set_is_exact(corpus, fitted, exact):
    sampled = fitted("hnsw", sample_size=256, exact_rows=400)
    allowed = np.arange(0, N, 7)  # 286 rows ≤ exact_rows: scored exactly
    for text in corpus.queries:
        got, got_scores = top(sampled, text, 10, allowed=allowed)
        want, want_scores = top(exact, text, 10, allowed=allowed)
        assert got == want
        np.testing.assert_allclose(got_scores, want_scores, rtol=1e-6, atol=1e-6)


def test_large_filter_searches_the_index_with_a_selector(corpus, fitted, exact):
    sampled = fitted("hnsw", sample_size=512, exact_rows=400)
    mask = np.zeros(N, dtype=bool)
    mask[::2] = True  # 1,000 rows > exact_rows: ANN restricted to them, statistics from sample ∩ allowed
    shares = []
    for text in corpus.queries:
        got, _ = top(sampled, text, 10, allowed=mask)
        assert all(mask[p] for p in got)
        shares.append(len(set(got) & set(top(exact, text, 10, allowed=mask)[0])) / 10)
    assert np.mean(shares) >= 0.95, np.mean(shares)


def test_within_rows_are_scored_exactly(corpus, fitted):
    sampled = fitted("hnsw", sample_size=256, lexical=False)
    within = np.zeros(N, dtype=bool)
    within[np.arange(5, N, 97)] = True  # chosen candidates, far from the query's neighbours
    text = next(iter(corpus.queries))
    hits = sampled.search(text, 50, within=within)
    assert {h.position for h in hits} == set(np.flatnonzero(within))
    q = corpus.queries[text]
    for h in hits:
        assert h.components["dense"] == pytest.approx(float(corpus.vectors[h.position] @ q), abs=1e-5)


# ------------------------------------------------------------------ (d) persistence
def test_save_load_round_trip(corpus, fitted, tmp_path):
    sampled = fitted("hnsw", sample_size=256)
    entry = sampled.save(tmp_path)
    assert entry["dense"]["vec"]["sample"] == {"rows": "sample_rows.npy", "vectors": "sample_vectors.npy",
                                               "size": 256}
    loaded = HybridRetriever.load(tmp_path, entry, {"vec": TableEncoder(corpus.queries)})
    loaded.query_cache = QueryVectorCache()
    np.testing.assert_array_equal(loaded.samples_["vec"].rows, sampled.samples_["vec"].rows)
    np.testing.assert_array_equal(loaded.samples_["vec"].vectors, sampled.samples_["vec"].vectors)
    for text in corpus.queries:
        got, got_scores = top(loaded, text)
        want, want_scores = top(sampled, text)
        assert got == want
        np.testing.assert_array_equal(got_scores, want_scores)
    assert not list(tmp_path.rglob("*.pkl"))


def test_an_approximate_index_saved_without_a_sample_draws_it_at_load(corpus, fitted, tmp_path):
    sampled = fitted("hnsw")  # the default sample size, as load draws it
    entry = sampled.save(tmp_path)
    del entry["dense"]["vec"]["sample"]
    loaded = HybridRetriever.load(tmp_path, entry, {"vec": TableEncoder(corpus.queries)})
    np.testing.assert_array_equal(loaded.samples_["vec"].rows, sampled.samples_["vec"].rows)
    np.testing.assert_array_equal(loaded.samples_["vec"].vectors, sampled.samples_["vec"].vectors)


def test_reindex_dense_turns_exact_into_approximate_and_back(corpus, fitted):
    model = corpus.retriever("flat")
    assert not model.samples_
    model.reindex_dense("hnsw", m=16)
    assert len(model.samples_["vec"]) == min(N, DEFAULT_SAMPLE_SIZE)
    text = next(iter(corpus.queries))
    assert top(model, text)[0] == top(fitted("hnsw"), text)[0]
    model.reindex_dense("flat")
    assert not model.samples_
