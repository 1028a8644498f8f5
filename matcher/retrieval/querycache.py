"""Query-side caches: each query text is encoded (and analysed) once, however many searches use it.

A demand with R requirements searches the whole text, every requirement, then again the requirements
with missing candidates; the page then asks for bundles of the same demand. Without a cache each of
those searches re-encodes its text with every dense encoder (tens to hundreds of milliseconds on a busy
2-core machine). :class:`QueryVectorCache` keeps recent query vectors keyed by (encoder query key:
the identity key, plus the query runtime's variant when it changes query vectors; text), so vectors are
shared across searches, requests, index versions built with the same encoders and retrievers. The
retriever's BM25 query terms are cached the same way (:class:`matcher.lru.LRU`).

Encoding concurrency is bounded too (``encode_slots``): see :mod:`matcher.runtime` for the measured
thread policy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from matcher.encoders.base import Encoder
from matcher.lru import LRU

#: Query vectors kept (all encoders together). A 512-d float32 vector is 2 KiB, so 8,192 entries hold
#: at most ≈ 16 MiB (384-d MiniLM vectors less): several thousand distinct queries, requirements and
#: translated English words.
QUERY_VECTOR_CACHE_SIZE = 8192
#: Analysed BM25 query terms kept per retriever (a small dict per query text).
QUERY_TERMS_CACHE_SIZE = 4096

class QueryVectorCache:
    """Query embeddings keyed by (encoder query key, text); misses are encoded in one batch call.

    ``encode_slots`` (``None``: unbounded) caps how many encoder calls run at once in the process, so
    concurrent requests queue for an encoder instead of splitting the cores between them.
    """

    def __init__(self, maxsize: int = QUERY_VECTOR_CACHE_SIZE, encode_slots: int | None = None) -> None:
        self._lru: LRU[tuple[str, str], np.ndarray] = LRU(maxsize)
        self._slots: threading.BoundedSemaphore | None = None
        self.set_encode_slots(encode_slots)

    @property
    def lru(self) -> LRU[tuple[str, str], np.ndarray]:
        return self._lru

    def set_encode_slots(self, slots: int | None) -> None:
        if slots is not None and (not isinstance(slots, int) or slots < 1):
            raise ValueError(f"encode slots must be an integer >= 1 or None, got {slots!r}")
        self._slots = threading.BoundedSemaphore(slots) if slots else None

    def vectors(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimension) query vectors; texts not cached are encoded together, once each."""
        key = encoder.query_key
        found: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for text in dict.fromkeys(texts):
            vec = self._lru.get((key, text))
            if vec is None:
                missing.append(text)
            else:
                found[text] = vec
        if missing:
            fresh = self._encode(encoder.encode_queries, missing)
            for text, vec in zip(missing, fresh, strict=True):
                vec = np.array(vec, dtype=np.float32)  # own copy: never a view of a caller's batch
                vec.setflags(write=False)
                self._lru.put((key, text), vec)
                found[text] = vec
        if not texts:
            return np.zeros((0, encoder.dimension), dtype=np.float32)
        return np.stack([found[t] for t in texts])

    def _encode(self, fn: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
        if self._slots is None:
            return fn(texts)
        with self._slots:
            return fn(texts)


_DEFAULT = QueryVectorCache()


def default_query_cache() -> QueryVectorCache:
    """The process-wide query-vector cache every :class:`HybridRetriever` uses unless given its own."""
    return _DEFAULT
