"""Machine facts the library sizes itself to (threads), read when asked, never at import time."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from matcher.settings import default_of, settings_from_env


def cpu_threads() -> int:
    """Threads to use for BLAS/torch/faiss: ``MATCHER_THREADS`` if set, else the CPUs this process may use."""
    value = settings_from_env().threads
    if value:
        return value
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def size_torch_threads() -> None:
    """Size torch's intra-op pool to the machine (call before the first forward pass)."""
    import torch

    n = cpu_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def size_faiss_threads() -> None:
    import faiss

    faiss.omp_set_num_threads(cpu_threads())


#: Threads one query encode (and one request's BLAS work) may use while serving. Measured on the
#: 2-core box (see bench/README.md, 2026-11-29): USE's numpy forward pass for one short query takes a
#: median 2–6 ms with 1 BLAS thread but 10–18 ms (p90 65–364 ms) with 2 when other work shares the
#: cores, because OpenBLAS's second thread spin-waits for a core; concurrent requests already keep
#: both cores busy, so each request runs single-threaded and requests run side by side.
SERVING_THREADS: int = default_of("query_threads")


def serving_threads() -> int:
    """``MATCHER_QUERY_THREADS`` if set (≥ 1), else :data:`SERVING_THREADS`."""
    return settings_from_env().query_threads


def encode_slots() -> int | None:
    """How many query encodes may run at once in a serving process: ``MATCHER_ENCODE_SLOTS`` if set
    (0: unbounded), else ``None`` (unbounded; see :func:`configure_serving`)."""
    return settings_from_env().encode_slots


def configure_serving(encoders: Iterable[Any] = (), threads: int | None = None) -> int:
    """Size a long-running query process (the service) for many small concurrent requests.

    BLAS (numpy, USE), torch intra-op and faiss pools get ``threads`` (default :func:`serving_threads`)
    each, process-wide; encoders that hold their own thread count (USE) are told too. Call after the
    encoders are loaded (loading a sentence-transformers model sizes torch to the machine, for builds).
    Returns the thread count applied.
    """
    import sys

    n = threads or serving_threads()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)  # not a context: stays in force for the process
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(n)
    if "faiss" in sys.modules:
        import faiss

        faiss.omp_set_num_threads(n)
    for encoder in encoders:
        setter = getattr(encoder, "set_threads", None)
        if callable(setter):
            setter(n)
    return n


def settle_heap() -> None:
    """Put every object alive now out of the cyclic garbage collector's way (``gc.freeze``), after one
    collection (``gc.unfreeze`` first: what an earlier call froze is collected now if it became garbage).

    A serving process holds its index as several hundred thousand long-lived Python objects (≈ 590,000 tracked
    at 100,000 records) that every full collection traverses: 320 ms with the GIL held, so every request in
    flight stalls — rare, but the tail of match and bundles latency at 100k (``bench/README.md``). Frozen objects
    are still freed by reference counting. Call once the index is loaded and after a hot swap (the swap pays one
    collection then)."""
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()

