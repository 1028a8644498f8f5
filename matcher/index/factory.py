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
#: statistics, ``retrieval/retriever.py``). Measured on the 2-core box at 512 dimensions, one thread
#: (bench/README.md, "approximate dense search"): exact scoring costs 1.3 ms at 10,000 vectors, 3.2 ms at
#: 20,000, 8–12 ms at 30,000–50,000 and 16–24 ms at 100,000, against 1.3–1.6 ms for an HNSW search of 200
#: candidates at efSearch 384 plus the 2,048-vector sample; with encoding and BM25 a request has only a few ms
#: of CPU left for dense scoring at 4 clients on 2 cores (p50 < 25 ms)
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
