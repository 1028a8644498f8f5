"""The vector-index interface every backend implements (exact numpy, FAISS flat, FAISS approximate).

Vectors are L2-normalised float32, so inner product is cosine similarity. Rows are addressed by
position (0..n-1); the index store maps positions to technology ids.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from matcher.errors import ValidationError


def as_matrix(vectors: np.ndarray, dimension: int | None = None, *, name: str = "vectors") -> np.ndarray:
    """Validate and return a C-contiguous float32 (n, d) matrix."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValidationError(f"{name} must be a 2-D matrix, got shape {arr.shape}", field=name)
    if dimension is not None and arr.shape[1] != dimension:
        raise ValidationError(f"{name} have dimension {arr.shape[1]}, the index expects {dimension}", field=name)
    if not np.isfinite(arr).all():
        raise ValidationError(f"{name} contain NaN or infinite values", field=name)
    return np.ascontiguousarray(arr)


class VectorIndex(ABC):
    """Inner-product search over a fixed set of vectors."""

    #: the backend's name in the factory
    backend: ClassVar[str]
    #: whether results are exact (equal to brute force) or approximate
    exact: ClassVar[bool]

    def __init__(self, dimension: int, **params: Any) -> None:
        self.dimension = int(dimension)
        self.params = params

    @abstractmethod
    def fit(self, vectors: np.ndarray) -> VectorIndex:
        """Index ``vectors`` (replacing anything indexed before); returns self."""

    @abstractmethod
    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, positions) per query, best first; missing slots are (-inf, -1).

        ``allowed`` (sorted int64 positions) restricts the search *before* ranking.
        """

    @abstractmethod
    def __len__(self) -> int: ...

    def matrix(self) -> np.ndarray | None:
        """The stored vectors as an (n, d) array view when the backend keeps them flat, else None."""
        return None

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        """The stored vectors of ``positions`` (int64) as an (m, d) float32 array, for exact scoring of
        chosen rows; every backend keeps its vectors (FAISS ``Flat`` storage), flat or not."""
        matrix = self.matrix()
        if matrix is None:
            raise NotImplementedError(f"backend {self.backend!r} cannot return its stored vectors")
        return matrix[np.asarray(positions, dtype=np.int64)]

    def scores(self, query: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Exact inner products of one ``query`` (d,) with the stored vectors of ``positions`` (m,)."""
        return self.vectors(positions) @ np.asarray(query, dtype=np.float32)

    @abstractmethod
    def save(self, directory: Path) -> dict[str, Any]:
        """Write the index files into ``directory``; returns the manifest entry describing them."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path, entry: dict[str, Any]) -> VectorIndex:
        """Mirror of :meth:`save`."""


def empty_result(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((nq, k), -np.inf, dtype=np.float32), np.full((nq, k), -1, dtype=np.int64)
