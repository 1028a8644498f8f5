"""Brute-force numpy inner product: the oracle every other backend is tested against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from matcher.index.base import VectorIndex, as_matrix, empty_result


class ExactIndex(VectorIndex):
    backend = "exact"
    exact = True

    def __init__(self, dimension: int, **params: Any) -> None:
        super().__init__(dimension, **params)
        self.vectors_ = np.zeros((0, self.dimension), dtype=np.float32)

    def fit(self, vectors: np.ndarray) -> ExactIndex:
        self.vectors_ = as_matrix(vectors, self.dimension)
        return self

    def __len__(self) -> int:
        return int(self.vectors_.shape[0])

    def matrix(self) -> np.ndarray:
        return self.vectors_

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        q = as_matrix(queries, self.dimension, name="queries")
        scores_out, pos_out = empty_result(q.shape[0], k)
        positions = np.arange(len(self), dtype=np.int64) if allowed is None else np.asarray(allowed, dtype=np.int64)
        if positions.size == 0 or k <= 0:
            return scores_out, pos_out
        scores = q @ self.vectors_[positions].T
        take = min(k, positions.size)
        # stable order: score descending, then position ascending (deterministic ties)
        order = np.lexsort((np.broadcast_to(positions, scores.shape), -scores), axis=1)[:, :take]
        scores_out[:, :take] = np.take_along_axis(scores, order, axis=1)
        pos_out[:, :take] = positions[order]
        return scores_out, pos_out

    def save(self, directory: Path) -> dict[str, Any]:
        np.save(directory / "vectors.npy", self.vectors_, allow_pickle=False)
        return {"backend": self.backend, "file": "vectors.npy", "dimension": self.dimension, "params": self.params}

    @classmethod
    def load(cls, directory: Path, entry: dict[str, Any]) -> ExactIndex:
        index = cls(entry["dimension"], **entry.get("params", {}))
        index.vectors_ = np.load(directory / entry["file"], allow_pickle=False)
        return index
