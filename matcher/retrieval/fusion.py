"""Putting channel scores on one scale before a weighted sum (the fusion step of the retriever).

Each normaliser maps a score array over all documents to a new array, using only the documents in
``mask`` (the filtered corpus) for its statistics; NaN marks a document the channel did not score:

- ``zscore``: ``(s - mean) / std``; unscored documents get the channel's minimum (its floor).
- ``minmax``: ``(s - min) / (max - min)``; unscored documents get 0.
- ``rrf``: reciprocal rank ``1 / (60 + rank)`` (rank 1 = best; unscored or zero-scored documents get 0),
  so a weighted sum of two channels at 0.5 / 0.5 is reciprocal-rank fusion.
Documents outside ``mask`` get 0. Measured on the dev sets, z-scores fuse best (``docs/quality.md``).

``zscore`` and ``minmax`` take their statistics from the scores themselves. ``zscore_with`` and
``minmax_with`` (``STAT_NORMALISERS``) take them precomputed (:class:`ChannelStats`): the retriever's
approximate dense channels score a fixed sample of their documents exactly per query and normalise
their candidates with the sample's statistics; documents they did not score (NaN) get ``stats.fill``.
``zscore(s, m)`` is ``zscore_with(s, m, describe(s[valid]))`` (``zscore_reference``; ``zscore`` computes the
same values in fewer passes), so the two agree exactly on the same scores. ``rrf`` needs ranks, not
statistics: it has no ``_with`` form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChannelStats:
    """What a channel's scores are normalised with: mean and standard deviation (``zscore``), lowest and
    highest score (``minmax``), and ``fill``, the raw score a document the channel did not score counts as."""

    mean: float
    std: float
    low: float
    high: float
    fill: float


def describe(values: np.ndarray) -> ChannelStats:
    """The statistics of ``values`` (non-empty, no NaN), computed in float64; ``fill`` is their minimum
    (the channel's floor: an unscored document ranks with the worst scored one)."""
    v = np.asarray(values).astype(np.float64)
    low = float(v.min())
    return ChannelStats(mean=float(v.mean()), std=float(v.std()), low=low, high=float(v.max()), fill=low)


def zscore_with(scores: np.ndarray, mask: np.ndarray, stats: ChannelStats) -> np.ndarray:
    """``(s - mean) / std`` in ``mask``; NaN (unscored) documents in ``mask`` get ``fill``'s z-score."""
    if not stats.std > 0:
        return np.zeros(scores.shape[0], dtype=np.float64)
    # whole-array arithmetic, then masked: the same values as indexing the valid rows, faster at 100,000 rows
    z = (scores.astype(np.float64) - stats.mean) / stats.std
    np.copyto(z, (stats.fill - stats.mean) / stats.std, where=np.isnan(scores))
    return np.where(mask, z, 0.0)


def minmax_with(scores: np.ndarray, mask: np.ndarray, stats: ChannelStats) -> np.ndarray:
    """``(s - low) / (high - low)`` in ``mask`` (1.0 for all when ``high == low``); NaN (unscored) documents
    in ``mask`` get ``fill``'s value (0 when ``fill`` is ``low``)."""
    out = np.zeros(scores.shape[0], dtype=np.float64)
    unscored = np.isnan(scores)
    valid = mask & ~unscored
    lo, hi = stats.low, stats.high
    out[valid] = (scores[valid] - lo) / (hi - lo) if hi > lo else 1.0
    out[mask & unscored] = (stats.fill - lo) / (hi - lo) if hi > lo else 0.0
    return out


def centred_moments(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of float64 ``values`` (non-empty), bit for bit as ``values.mean()`` and
    ``values.std()`` compute them (the pairwise sum, then the sum of squared deviations from that mean), in
    two passes fewer; ``values`` is left less its mean, in place."""
    mean = float(np.add.reduce(values) / values.size)
    np.subtract(values, mean, out=values)
    std = float(np.sqrt(np.add.reduce(np.square(values)) / values.size))
    return mean, std


def zscore(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`zscore_reference`'s values in fewer passes over the array (a query's lexical channel is one
    over every document): one float64 copy serves the statistics and the result."""
    unscored = np.isnan(scores)
    valid = mask & ~unscored
    if not valid.any():
        return np.zeros(scores.shape[0], dtype=np.float64)
    if valid.all():  # every document in mask and scored: the copy's own moments
        z = scores.astype(np.float64)
        _, std = centred_moments(z)
        if not std > 0:
            return np.zeros(scores.shape[0], dtype=np.float64)
        return np.divide(z, std, out=z)
    stats = describe(scores[valid])
    if not stats.std > 0:
        return np.zeros(scores.shape[0], dtype=np.float64)
    z = scores.astype(np.float64)
    np.subtract(z, stats.mean, out=z)
    np.divide(z, stats.std, out=z)
    np.copyto(z, (stats.fill - stats.mean) / stats.std, where=unscored)
    np.copyto(z, 0.0, where=~mask)
    return z


def zscore_reference(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`zscore` as the statistics of the valid rows, then :func:`zscore_with` (what it is tested against)."""
    valid = mask & ~np.isnan(scores)
    if not valid.any():
        return np.zeros(scores.shape[0], dtype=np.float64)
    return zscore_with(scores, mask, describe(scores[valid]))


def minmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    valid = mask & ~np.isnan(scores)
    if not valid.any():
        return np.zeros(scores.shape[0], dtype=np.float64)
    return minmax_with(scores, mask, describe(scores[valid]))


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
#: the normalisers that take precomputed statistics (an approximate dense channel's sampled ones)
STAT_NORMALISERS: dict[str, Callable[[np.ndarray, np.ndarray, ChannelStats], np.ndarray]] = {
    "zscore": zscore_with,
    "minmax": minmax_with,
}
