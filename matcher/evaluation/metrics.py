"""Ranking metrics (nDCG@k, Recall@k, MRR@k), per query and averaged, as in BEIR / pytrec_eval.

``run`` maps query id → {doc id: score}; ``qrels`` maps query id → {doc id: relevance}. Documents
are ranked by score descending, ties broken by doc id descending (pytrec_eval's convention), so
numbers agree with standard tools on the same run. Queries without any relevant document are
skipped; queries absent from the run count as zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]


def ranked(scores: Mapping[str, float]) -> list[str]:
    return [d for d, _ in sorted(scores.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]


def ndcg_at(ranking: list[str], rels: Mapping[str, int], k: int) -> float:
    # linear gain, as trec_eval / pytrec_eval (and so BEIR) compute it
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]) if rels.get(d, 0) > 0)
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranking: list[str], rels: Mapping[str, int], k: int) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranking[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranking: list[str], rels: Mapping[str, int], k: int) -> float:
    for i, d in enumerate(ranking[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


_METRICS = {"ndcg": ndcg_at, "recall": recall_at, "mrr": mrr_at}
DEFAULT_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


def per_query(run: Run, qrels: Qrels, metrics: Iterable[str] = DEFAULT_METRICS) -> dict[str, dict[str, float]]:
    parsed = []
    for name in metrics:
        base, _, k = name.partition("@")
        if base not in _METRICS or not k.isdigit():
            raise ValueError(f"unknown metric {name!r}; valid: ndcg@K, recall@K, mrr@K")
        parsed.append((name, _METRICS[base], int(k)))
    out: dict[str, dict[str, float]] = {}
    for qid, rels in qrels.items():
        if not any(r > 0 for r in rels.values()):
            continue
        ranking = ranked(run.get(qid, {}))
        out[qid] = {name: fn(ranking, rels, k) for name, fn, k in parsed}
    return out


def evaluate(run: Run, qrels: Qrels, metrics: Iterable[str] = DEFAULT_METRICS) -> dict[str, float]:
    """Mean of each metric over the judged queries."""
    metrics = tuple(metrics)
    scores = per_query(run, qrels, metrics)
    n = len(scores)
    return {m: (sum(s[m] for s in scores.values()) / n if n else 0.0) for m in metrics}
