"""FAISS backends: exact inner product (``flat``) and approximate ones (``hnsw``, ``ivf``).

Files are written with ``faiss.write_index`` (FAISS's own format, no pickle). Thread pools are sized
to the machine before each search.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from matcher.index.base import VectorIndex, as_matrix, empty_result
from matcher.runtime import size_faiss_threads


class FaissIndex(VectorIndex):
    """Common FAISS plumbing; subclasses choose the index structure and search parameters."""

    backend = "faiss"
    exact = False

    def __init__(self, dimension: int, **params: Any) -> None:
        super().__init__(dimension, **params)
        self.index_: Any = None

    def _build(self, n: int) -> Any:
        raise NotImplementedError

    def _search_params(self, selector: Any) -> Any:
        import faiss

        return faiss.SearchParameters(sel=selector)

    def fit(self, vectors: np.ndarray) -> FaissIndex:
        size_faiss_threads()
        x = as_matrix(vectors, self.dimension)
        self.index_ = self._build(x.shape[0])
        if not self.index_.is_trained:
            self.index_.train(x)
        if x.shape[0]:
            self.index_.add(x)
        return self

    def __len__(self) -> int:
        return 0 if self.index_ is None else int(self.index_.ntotal)

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        q = as_matrix(queries, self.dimension, name="queries")
        if self.index_ is None or len(self) == 0 or k <= 0:
            return empty_result(q.shape[0], max(k, 0))
        size_faiss_threads()
        params = None
        if allowed is not None:
            allowed = np.ascontiguousarray(allowed, dtype=np.int64)
            if allowed.size == 0:
                return empty_result(q.shape[0], k)
            params = self._search_params(faiss.IDSelectorBatch(allowed))
        else:
            params = self._search_params(None)
        scores, positions = self.index_.search(q, k, params=params)
        scores = scores.astype(np.float32)
        scores[positions < 0] = -np.inf
        return scores, positions.astype(np.int64)

    def save(self, directory: Path) -> dict[str, Any]:
        import faiss

        faiss.write_index(self.index_, str(directory / "vectors.faiss"))
        return {"backend": self.backend, "file": "vectors.faiss", "dimension": self.dimension, "params": self.params}

    @classmethod
    def load(cls, directory: Path, entry: dict[str, Any]) -> FaissIndex:
        import faiss

        index = cls(entry["dimension"], **entry.get("params", {}))
        index.index_ = faiss.read_index(str(directory / entry["file"]))
        return index


class FlatIndex(FaissIndex):
    """``IndexFlatIP``: exact inner product, for small and medium corpora."""

    backend = "flat"
    exact = True

    def _build(self, n: int) -> Any:
        import faiss

        return faiss.IndexFlatIP(self.dimension)


    def matrix(self) -> np.ndarray | None:
        import faiss

        if self.index_ is None or self.index_.ntotal == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        flat = faiss.downcast_index(self.index_)
        return faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * self.dimension).reshape(flat.ntotal, self.dimension)


class HNSWIndex(FaissIndex):
    """``IndexHNSWFlat`` (inner product): approximate, no training, good recall at large n."""

    backend = "hnsw"

    def __init__(self, dimension: int, *, m: int = 32, ef_construction: int = 80, ef_search: int = 128) -> None:
        super().__init__(dimension, m=m, ef_construction=ef_construction, ef_search=ef_search)

    def _build(self, n: int) -> Any:
        import faiss

        index = faiss.IndexHNSWFlat(self.dimension, int(self.params["m"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(self.params["ef_construction"])
        return index

    def _search_params(self, selector: Any) -> Any:
        import faiss

        return faiss.SearchParametersHNSW(sel=selector, efSearch=int(self.params["ef_search"]))


class IVFIndex(FaissIndex):
    """``IVF{nlist},Flat`` (inner product): approximate, trained by k-means; nlist ≈ 4·√n by default."""

    backend = "ivf"

    def __init__(self, dimension: int, *, nlist: int | None = None, nprobe: int = 32) -> None:
        super().__init__(dimension, nlist=nlist, nprobe=nprobe)

    def _build(self, n: int) -> Any:
        import faiss

        nlist = int(self.params["nlist"] or max(1, min(int(4 * np.sqrt(max(n, 1))), max(n // 39, 1))))
        self.params["nlist"] = nlist
        quantizer = faiss.IndexFlatIP(self.dimension)
        return faiss.IndexIVFFlat(quantizer, self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)

    def _search_params(self, selector: Any) -> Any:
        import faiss

        return faiss.SearchParametersIVF(sel=selector, nprobe=int(self.params["nprobe"]))
