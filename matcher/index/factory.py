"""Index factory by name: ``exact``, ``flat``, ``hnsw``, ``ivf``, or ``auto`` (chosen by corpus size)."""

from __future__ import annotations

from typing import Any

from matcher.errors import unknown_choice
from matcher.index.base import VectorIndex
from matcher.index.exact import ExactIndex
from matcher.index.faiss_index import FlatIndex, HNSWIndex, IVFIndex

BACKENDS: dict[str, type[VectorIndex]] = {
    "exact": ExactIndex,
    "flat": FlatIndex,
    "hnsw": HNSWIndex,
    "ivf": IVFIndex,
}
#: channels up to this many vectors get exact FAISS search; larger ones HNSW (with sampled normalisation
#: statistics, ``retrieval/retriever.py``). Measured on the 2-core box, 512 dimensions, one thread
#: (bench/README.md, "approximate dense search at 100,000 records"): exact scoring costs 1.0 ms at 10,000
#: vectors and 3.0 ms at 20,000, then leaves the cache — 8.5 ms at 30,000, 12 at 50,000, 24 at 100,000 —
#: against ≈ 2 ms for the approximate path (HNSW search of 200 candidates at efSearch 384: 1.2 ms; the
#: 2,048-vector sample and BM25's top rows scored exactly: 0.8 ms), and a request at 4 clients on 2 cores
#: has only a few ms of CPU left for dense scoring once encoding and BM25 are paid (p50 < 25 ms)
AUTO_EXACT_LIMIT = 20_000


def choose_backend(name: str, count: int) -> str:
    if name == "auto":
        return "flat" if count <= AUTO_EXACT_LIMIT else "hnsw"
    if name not in BACKENDS:
        raise unknown_choice("index backend", name, [*BACKENDS, "auto"])
    return name


def create_index(name: str, dimension: int, count: int = 0, **params: Any) -> VectorIndex:
    backend = choose_backend(name, count)
    return BACKENDS[backend](dimension, **params)


def index_class(name: str) -> type[VectorIndex]:
    if name not in BACKENDS:
        raise unknown_choice("index backend", name, BACKENDS)
    return BACKENDS[name]
