"""Machine facts the library sizes itself to (threads), read when asked, never at import time."""

from __future__ import annotations

import os


def cpu_threads() -> int:
    """Threads to use for BLAS/torch/faiss: ``MATCHER_THREADS`` if set, else the CPUs this process may use."""
    env = os.environ.get("MATCHER_THREADS", "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            value = 0
        if value > 0:
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
