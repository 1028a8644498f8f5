"""Run named pipelines over a BEIR-layout dataset and score them (``matcher eval``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.encoders.base import Encoder
from matcher.encoders.cache import CachedEncoder, EmbeddingCache
from matcher.evaluation.beir import BeirDataset
from matcher.evaluation.metrics import DEFAULT_METRICS, evaluate
from matcher.retrieval.config import PipelineConfig
from matcher.retrieval.retriever import HybridRetriever
from matcher.retrieval.sample import DEFAULT_SAMPLE_SIZE
from matcher.retrieval.translate import content_words

RUN_DEPTH = 100


def default_cache_path() -> Path:
    """``MATCHER_CACHE`` if set, else ``~/.cache/matcher/embeddings.sqlite``."""
    from matcher.settings import settings_from_env

    return settings_from_env().cache or Path.home() / ".cache" / "matcher" / "embeddings.sqlite"


@dataclass
class EvalResult:
    pipeline: str
    metrics: dict[str, float]
    run: dict[str, dict[str, float]]
    seconds: float
    embedded: int
    queries: int

    def to_dict(self) -> dict[str, Any]:
        return {**{k: round(v, 4) for k, v in self.metrics.items()}, "pipeline": self.pipeline,
                "queries": self.queries, "seconds": round(self.seconds, 1), "embedded": self.embedded}


def document_text(doc: dict[str, str]) -> str:
    title, text = doc.get("title", "").strip(), doc.get("text", "").strip()
    return f"{title}\n{text}" if title and text else (title or text)


def run_pipeline(
    dataset: BeirDataset,
    config: PipelineConfig,
    cache: EmbeddingCache,
    *,
    progress: bool = False,
    encoders: dict[str, Encoder] | None = None,
    backend: str = "auto",
    sample_size: int = DEFAULT_SAMPLE_SIZE,
) -> EvalResult:
    """``config`` fitted on ``dataset``'s corpus and run on its queries. ``backend`` forces the dense
    channels' vector index (``hnsw``: approximate search with sampled statistics) and ``sample_size`` the
    size of their statistics sample: on a dev set smaller than 2,048 documents only a smaller sample
    exercises the sampled path at all."""
    from matcher.encoders import load_encoder

    started = time.perf_counter()
    cached = {name: CachedEncoder((encoders or {}).get(name) or load_encoder(name), cache) for name in config.encoders}
    doc_ids = list(dataset.corpus)
    retriever = HybridRetriever(config, cached, backend, sample_size=sample_size)
    retriever.fit([document_text(dataset.corpus[d]) for d in doc_ids], progress=progress)
    query_ids = list(dataset.queries)
    texts = [dataset.queries[q] for q in query_ids]
    for enc in cached.values():  # one batch per encoder, so each query is embedded once
        enc.encode_queries(texts, progress=progress)
    if retriever.translates_queries and config.dense_multi:
        words = sorted({w for t in texts if not retriever.is_korean(t) for w in content_words(t)})
        cached[config.dense_multi].encode_queries(words)
    run: dict[str, dict[str, float]] = {}
    iterator: Sequence[tuple[str, str]] | Any = list(zip(query_ids, texts, strict=True))
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"queries ({config.name})", unit="q")
    for qid, text in iterator:
        hits = retriever.search(text, RUN_DEPTH)
        run[qid] = {doc_ids[h.position]: h.score for h in hits}
    metrics = evaluate(run, dataset.qrels, DEFAULT_METRICS)
    embedded = sum(c.embedded for c in cached.values())
    return EvalResult(config.name, metrics, run, time.perf_counter() - started, embedded, len(query_ids))
