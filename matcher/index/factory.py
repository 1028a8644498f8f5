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
#: corpora up to this many vectors get exact FAISS search; larger ones an approximate index
AUTO_EXACT_LIMIT = 200_000


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
