"""Metric functions: hand-computed cases, and agreement with ranx on the same run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matcher.evaluation.metrics import evaluate, mrr_at, ndcg_at, recall_at
from matcher.evaluation.trec import read_run, write_run


def test_hand_computed():
    ranking = ["d3", "d1", "d9", "d2"]
    rels = {"d1": 1, "d2": 1}
    # DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at(ranking, rels, 10) == pytest.approx(expected)
    assert ndcg_at(ranking, rels, 1) == 0.0
    assert recall_at(ranking, rels, 2) == 0.5 and recall_at(ranking, rels, 4) == 1.0
    assert mrr_at(ranking, rels, 10) == 0.5 and mrr_at(ranking, rels, 1) == 0.0
    graded = {"d3": 2, "d1": 1}
    assert ndcg_at(["d3", "d1"], graded, 10) == pytest.approx(1.0)
    assert ndcg_at(["d1", "d3"], graded, 10) < 1.0


def test_missing_query_counts_zero_and_unjudged_skipped():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}
    run = {"q1": {"a": 2.0, "x": 1.0}}
    out = evaluate(run, qrels, ["mrr@10"])
    assert out["mrr@10"] == pytest.approx(0.5)  # q1 = 1, q2 = 0, q3 unjudged


def test_agrees_with_ranx(tmp_path):
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(3)
    docs = [f"d{i}" for i in range(300)]
    qrels = {f"q{q}": {d: int(rng.integers(1, 3)) for d in rng.choice(docs, rng.integers(1, 4), replace=False)}
             for q in range(40)}
    run = {q: {d: float(s) for d, s in zip(docs, rng.random(len(docs)), strict=True)} for q in qrels}
    ours = evaluate(run, qrels, ["ndcg@10", "recall@10", "recall@100", "mrr@10"])
    # round trip through a TREC run file, as an outside tool would read it
    path = tmp_path / "run.trec"
    write_run(path, run, "test", depth=300)
    reread = read_run(path)
    theirs = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(reread), ["ndcg@10", "recall@10", "recall@100", "mrr@10"])
    for metric in ours:
        assert ours[metric] == pytest.approx(theirs[metric], abs=1e-6), metric
