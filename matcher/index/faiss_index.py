"""FAISS backends: exact inner product (``flat``) and approximate ones (``hnsw``, ``ivf``).

Files are written with ``faiss.write_index`` (FAISS's own format, no pickle). Thread pools are sized
to the machine before each fit; a search leaves them as they are (a serving process sizes them once,
``runtime.configure_serving``: resizing per search read the settings each time, 1.7 ms a call, and undid
the service's one thread per request).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import ValidationError
from matcher.index.base import VectorIndex, as_matrix, empty_result
from matcher.runtime import size_faiss_threads


def allowed_bitmap(allowed: np.ndarray, n: int) -> np.ndarray:
    """The positions ``allowed`` as FAISS's ``IDSelectorBitmap`` reads them: bit ``i % 8`` of byte ``i // 8``."""
    mask = np.zeros(n, dtype=bool)
    mask[allowed] = True
    return np.packbits(mask, bitorder="little")


def flat_view(flat: Any, dimension: int) -> np.ndarray:
    """The vectors of a FAISS ``IndexFlat`` as an (n, d) float32 view of its own memory (no copy)."""
    import faiss

    flat = faiss.downcast_index(flat)
    if flat.ntotal == 0:
        return np.zeros((0, dimension), dtype=np.float32)
    return faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * dimension).reshape(flat.ntotal, dimension)


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
        bitmap = None
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            if allowed.size == 0:
                return empty_result(q.shape[0], k)
            bitmap = allowed_bitmap(allowed, len(self))
        # a bitmap costs 0.2 ms to make at 100,000 rows, an IDSelectorBatch (a hash set) 6 ms
        selector = None if bitmap is None else faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap))
        scores, positions = self.index_.search(q, k, params=self._search_params(selector))
        del bitmap  # kept alive until here: the selector reads it during the search
        scores = scores.astype(np.float32)
        scores[positions < 0] = -np.inf
        return scores, positions.astype(np.int64)

    def scores(self, query: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """From the flat storage by index, without copying the rows out (FAISS
        ``fvec_inner_products_by_idx``): 20,000 rows of 512 floats in 5 ms against 23 ms for
        ``matrix[rows] @ q`` on the 2-core box (bench/README.md)."""
        import faiss

        matrix = self.matrix()
        if matrix is None:
            return super().scores(query, positions)
        ids = np.ascontiguousarray(positions, dtype=np.int64)
        out = np.empty(ids.size, dtype=np.float32)
        if ids.size == 0:
            return out
        if int(ids.min()) < 0 or int(ids.max()) >= matrix.shape[0]:
            raise ValidationError(f"positions must lie in 0..{matrix.shape[0] - 1}", field="positions")
        q = as_matrix(query, self.dimension, name="query")
        threads = faiss.omp_get_max_threads()
        # one query is one thread's work: an OpenMP team of 2 waits for a busy second core (12 ms instead of
        # 0.4 ms for 5,000 rows under load). The setting is the calling thread's own (OpenMP ICVs are per
        # thread), so other requests are not affected
        faiss.omp_set_num_threads(1)
        try:
            faiss.fvec_inner_products_by_idx(faiss.swig_ptr(out), faiss.swig_ptr(q), faiss.swig_ptr(matrix),
                                             faiss.swig_ptr(ids), self.dimension, 1, ids.size)
        finally:
            faiss.omp_set_num_threads(threads)
        return out

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
        return None if self.index_ is None else flat_view(self.index_, self.dimension)


class HNSWIndex(FaissIndex):
    """``IndexHNSWFlat`` (inner product): approximate, no training, good recall at large n.

    Defaults measured on the 100,000-record index (bench/README.md): M 32, efConstruction 200, efSearch 384
    give recall@10 0.975 (USE, 100,000 × 512) and 0.983 (MiniLM, 24,322 × 384) against exact search for
    never-seen queries, 1.3 ms a search; efConstruction 80 or efSearch 128 stay below 0.95, M 48 is no better."""

    backend = "hnsw"

    def __init__(self, dimension: int, *, m: int = 32, ef_construction: int = 200, ef_search: int = 384) -> None:
        super().__init__(dimension, m=m, ef_construction=ef_construction, ef_search=ef_search)

    def _build(self, n: int) -> Any:
        import faiss

        index = faiss.IndexHNSWFlat(self.dimension, int(self.params["m"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(self.params["ef_construction"])
        return index

    def _search_params(self, selector: Any) -> Any:
        import faiss

        return faiss.SearchParametersHNSW(sel=selector, efSearch=int(self.params["ef_search"]))

    def matrix(self) -> np.ndarray | None:
        """The graph's ``Flat`` storage: every vector, in position order (a view, no copy)."""
        return None if self.index_ is None else flat_view(self.index_.storage, self.dimension)


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

    def fit(self, vectors: np.ndarray) -> IVFIndex:
        super().fit(vectors)
        self.index_.make_direct_map()  # position → (list, offset), for vectors(); 8 bytes a row
        return self

    @classmethod
    def load(cls, directory: Path, entry: dict[str, Any]) -> IVFIndex:
        index = super().load(directory, entry)
        assert isinstance(index, IVFIndex)
        if index.index_.direct_map.type == 0:  # written without one (NoMap)
            index.index_.make_direct_map()
        return index

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        """Reconstructed from the inverted lists (IVF-Flat keeps each vector whole)."""
        positions = np.ascontiguousarray(positions, dtype=np.int64)
        if positions.size == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.index_.reconstruct_batch(positions)
