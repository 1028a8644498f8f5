"""Putting channel scores on one scale before a weighted sum (the fusion step of the retriever).

Each normaliser maps a score array over all documents to a new array, using only the documents in
``mask`` (the filtered corpus) for its statistics; NaN marks a document the channel did not score:

- ``zscore``: ``(s - mean) / std``; unscored documents get the channel's minimum (its floor).
- ``minmax``: ``(s - min) / (max - min)``; unscored documents get 0.
- ``rrf``: reciprocal rank ``1 / (60 + rank)`` (rank 1 = best; unscored or zero-scored documents get 0),
  so a weighted sum of two channels at 0.5 / 0.5 is reciprocal-rank fusion.
Documents outside ``mask`` get 0. Measured on the dev sets, z-scores fuse best (``docs/quality.md``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def zscore(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.zeros(scores.shape[0], dtype=np.float64)
    valid = mask & ~np.isnan(scores)
    if not valid.any():
        return out
    values = scores[valid].astype(np.float64)
    mean, std = values.mean(), values.std()
    if std <= 0:
        return out
    z = (scores.astype(np.float64) - mean) / std
    out[valid] = z[valid]
    out[mask & np.isnan(scores)] = float(z[valid].min())
    return out


def minmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.zeros(scores.shape[0], dtype=np.float64)
    valid = mask & ~np.isnan(scores)
    if not valid.any():
        return out
    lo, hi = float(scores[valid].min()), float(scores[valid].max())
    out[valid] = (scores[valid] - lo) / (hi - lo) if hi > lo else 1.0
    return out


def reciprocal_rank(scores: np.ndarray, mask: np.ndarray, k: float = 60.0) -> np.ndarray:
    out = np.zeros(scores.shape[0], dtype=np.float64)
    valid = np.flatnonzero(mask & ~np.isnan(scores) & (scores != 0))
    if valid.size:
        order = valid[np.lexsort((valid, -scores[valid]))]  # ties: lower position first
        out[order] = 1.0 / (k + np.arange(1, order.size + 1))
    return out


NORMALISERS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "zscore": zscore,
    "minmax": minmax,
    "rrf": reciprocal_rank,
}
NORMALISATIONS = tuple(NORMALISERS)
