"""BM25 against a direct transcription of the formula; fusion on toy rankings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from matcher.retrieval.bm25 import BM25
from matcher.retrieval.fusion import minmax, reciprocal_rank, zscore

DOCS = [["robot", "slam", "robot"], ["battery", "management"], ["robot", "battery"], ["antibody"]]


def reference(docs, query, k1=1.2, b=0.75):
    n = len(docs)
    avgdl = sum(map(len, docs)) / n
    out = []
    for d in docs:
        s = 0.0
        for t in set(query):
            df = sum(t in x for x in docs)
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = d.count(t)
            s += query.count(t) * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgdl))
        out.append(s)
    return np.array(out)


@pytest.mark.parametrize("query", [["robot"], ["robot", "battery"], ["battery", "battery", "slam"], ["none"]])
def test_bm25_matches_formula(query):
    model = BM25().fit(DOCS)
    np.testing.assert_allclose(model.score(query), reference(DOCS, query), rtol=1e-5, atol=1e-6)


def test_bm25_save_load(tmp_path):
    model = BM25(k1=0.9, b=0.4).fit(DOCS)
    entry = model.save(tmp_path)
    again = BM25.load(tmp_path, entry)
    np.testing.assert_allclose(again.score(["robot", "battery"]), model.score(["robot", "battery"]))
    assert not list(tmp_path.glob("*.pkl"))
    saved = sp.load_npz(tmp_path / "bm25.npz")  # the file stays document × term
    assert saved.shape == (len(DOCS), len(model.vocab_)) == (len(again), len(again.vocab_))
    assert (saved.T != again.weights_t_).nnz == 0 and not hasattr(again, "weights_")


def test_reciprocal_rank_toy():
    lexical = np.array([3.0, 2.0, 0.0, np.nan])
    dense = np.array([np.nan, 9.0, 1.0, 0.5])
    mask = np.ones(4, dtype=bool)
    fused = 0.5 * reciprocal_rank(lexical, mask) + 0.5 * reciprocal_rank(dense, mask)
    assert fused[1] == pytest.approx(0.5 / 62 + 0.5 / 61)
    assert int(np.argmax(fused)) == 1
    assert reciprocal_rank(lexical, mask)[2] == 0.0  # a zero BM25 score is no match, not a rank


def test_zscore_and_minmax():
    scores = np.array([10.0, 5.0, 0.0, np.nan, 7.0])
    mask = np.array([True, True, True, True, False])
    z = zscore(scores, mask)
    assert z[0] > z[1] > z[2] and z[3] == pytest.approx(z[2]) and z[4] == 0.0
    assert z[:3].mean() == pytest.approx(0.0)
    m = minmax(scores, mask)
    assert m[0] == 1.0 and m[2] == 0.0 and m[1] == pytest.approx(0.5) and m[3] == 0.0
    flat = np.array([2.0, 2.0])
    assert (zscore(flat, np.ones(2, bool)) == 0).all() and (minmax(flat, np.ones(2, bool)) == 1).all()


def test_weighted_scores_equal_the_sparse_product_exactly():
    """The per-term loop of ``score_weighted`` gives the sparse product's float32 sums bit for bit."""
    rng = np.random.default_rng(7)
    vocab = [f"t{i}" for i in range(60)]
    docs = [list(rng.choice(vocab, size=int(rng.integers(1, 40)))) for _ in range(500)]
    bm25 = BM25().fit(docs)
    for _ in range(50):
        terms = {str(t): float(rng.integers(1, 4)) for t in rng.choice([*vocab, "unknown"], size=int(rng.integers(1, 9)))}
        assert np.array_equal(bm25.score_weighted(terms), bm25.score_weighted_product(terms))
    assert not bm25.score_weighted({"unknown": 1.0}).any()


def test_zscore_with_matches_indexing_the_valid_rows():
    from matcher.retrieval.fusion import ChannelStats, zscore_with

    rng = np.random.default_rng(3)
    scores = rng.random(1000).astype(np.float32)
    scores[rng.random(1000) < 0.6] = np.nan
    mask = rng.random(1000) < 0.8
    stats = ChannelStats(mean=0.4, std=0.2, low=0.0, high=1.0, fill=0.1)
    want = np.zeros(1000)
    valid = mask & ~np.isnan(scores)
    want[valid] = (scores[valid].astype(np.float64) - 0.4) / 0.2
    want[mask & np.isnan(scores)] = (0.1 - 0.4) / 0.2
    assert np.array_equal(zscore_with(scores, mask, stats), want)
