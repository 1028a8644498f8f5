"""A fixed sample of an approximate dense channel's document vectors, for its normalisation statistics.

An approximate index (HNSW, IVF) returns only its top candidates, but z-score fusion needs the mean and
spread of the channel's scores over every allowed document. The retriever scores this sample exactly per
query (an S × d product: 0.1–0.3 ms at S = 2,048, d = 512) and takes the statistics from it
(``retriever.py``, ``fusion.STAT_NORMALISERS``).

The sample is the ``size`` documents whose position hashes lowest (splitmix64 of the position): the same
documents on every fit of the same corpus, independent of the order vectors are given in, and stable when
documents are added (a new document enters only if its hash is among the lowest). Saved beside the
channel's index as two ``.npy`` files (no pickle) and a manifest entry; :meth:`StatsSample.load` mirrors
:meth:`StatsSample.save`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import IndexMismatchError

#: documents sampled per approximate channel (all of them when the channel has fewer)
DEFAULT_SAMPLE_SIZE = 2048


def position_hash(positions: np.ndarray) -> np.ndarray:
    """splitmix64 of each position (uint64): a fixed pseudo-random key per document position."""
    z = np.asarray(positions, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def sample_rows(positions: np.ndarray, size: int) -> np.ndarray:
    """Indexes into ``positions`` (ascending) of the ``size`` positions that hash lowest; all when fewer."""
    positions = np.asarray(positions, dtype=np.int64)
    if size >= positions.size:
        return np.arange(positions.size, dtype=np.int64)
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    keys = position_hash(positions)
    return np.sort(np.argpartition(keys, size - 1)[:size]).astype(np.int64)


@dataclass(frozen=True)
class StatsSample:
    """``rows``: indexes into the channel's rows (ascending); ``vectors``: their document vectors (S × d)."""

    rows: np.ndarray
    vectors: np.ndarray

    @classmethod
    def draw(cls, positions: np.ndarray, vectors: np.ndarray, size: int = DEFAULT_SAMPLE_SIZE) -> StatsSample:
        """The sample of a channel whose row ``i`` is document ``positions[i]`` with vector ``vectors[i]``."""
        rows = sample_rows(positions, size)
        return cls(rows, np.ascontiguousarray(np.asarray(vectors[rows], dtype=np.float32)))

    def __len__(self) -> int:
        return int(self.rows.size)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Exact inner products of the sample with one query vector."""
        return self.vectors @ query

    def save(self, directory: Path) -> dict[str, Any]:
        np.save(directory / "sample_rows.npy", self.rows, allow_pickle=False)
        np.save(directory / "sample_vectors.npy", self.vectors, allow_pickle=False)
        return {"rows": "sample_rows.npy", "vectors": "sample_vectors.npy", "size": len(self)}

    @classmethod
    def load(cls, directory: Path, entry: dict[str, Any]) -> StatsSample:
        rows = np.load(directory / entry["rows"], allow_pickle=False)
        vectors = np.load(directory / entry["vectors"], allow_pickle=False)
        if rows.shape != (int(entry["size"]),) or vectors.shape[0] != rows.size:
            raise IndexMismatchError(f"{directory}: the manifest names a sample of {entry['size']} rows, its files "
                                     f"hold {rows.shape} rows and {vectors.shape} vectors; rebuild the index")
        return cls(rows.astype(np.int64), vectors)
