"""BM25 against a direct transcription of the formula; fusion on toy rankings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matcher.retrieval.bm25 import BM25
from matcher.retrieval.fusion import normalise, rrf, weighted

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


def test_rrf_toy():
    fused = rrf({"a": {1: 3.0, 2: 2.0}, "b": {2: 9.0, 3: 1.0}}, {"a": 1.0, "b": 1.0}, k=60)
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61)
    assert max(fused, key=fused.get) == 2


def test_weighted_minmax_and_zscore():
    channels = {"a": {1: 10.0, 2: 5.0, 3: 0.0}, "b": {3: 0.9, 4: 0.1}}
    fused = weighted(channels, {"a": 0.5, "b": 0.5}, "minmax")
    assert fused[1] == pytest.approx(0.5) and fused[3] == pytest.approx(0.5) and fused[4] == pytest.approx(0.0)
    z = weighted(channels, {"a": 1.0, "b": 0.0}, "zscore")
    assert set(z) == {1, 2, 3} and z[1] > z[2] > z[3]
    normed, floor = normalise({1: 2.0, 2: 2.0}, "minmax")
    assert normed == {1: 1.0, 2: 1.0} and floor == 0.0
