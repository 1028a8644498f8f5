"""Combining ranked lists from several channels.

- ``rrf``: reciprocal-rank fusion, ``Σ w / (k + rank)``.
- ``weighted``: a convex combination of per-query normalised scores (``minmax`` or ``zscore`` over each
  channel's candidate list); a document a channel did not return gets that channel's floor.
Inputs are ``{doc: score}`` dicts per channel; output is ``{doc: fused score}``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matcher.errors import ConfigError

NORMALISATIONS = ("minmax", "zscore")


def rrf(channels: Mapping[str, Mapping[int, float]], weights: Mapping[str, float], k: float = 60.0) -> dict[int, float]:
    fused: dict[int, float] = {}
    for name, scores in channels.items():
        w = weights.get(name, 0.0)
        if w == 0.0:
            continue
        order = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        for rank, (doc, _) in enumerate(order, 1):
            fused[doc] = fused.get(doc, 0.0) + w / (k + rank)
    return fused


def normalise(scores: Mapping[int, float], method: str) -> tuple[dict[int, float], float]:
    """Normalised scores and the floor value for documents the channel did not return."""
    if method not in NORMALISATIONS:
        raise ConfigError(f"unknown normalisation {method!r}; valid: {', '.join(NORMALISATIONS)}")
    if not scores:
        return {}, 0.0
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    if method == "minmax":
        lo, hi = float(values.min()), float(values.max())
        span = hi - lo
        if span <= 0:
            return {d: 1.0 for d in scores}, 0.0
        return {d: (s - lo) / span for d, s in scores.items()}, 0.0
    mean, std = float(values.mean()), float(values.std())
    if std <= 0:
        return {d: 0.0 for d in scores}, 0.0
    normed = {d: (s - mean) / std for d, s in scores.items()}
    return normed, float(min(normed.values()))


def weighted(
    channels: Mapping[str, Mapping[int, float]], weights: Mapping[str, float], method: str = "minmax"
) -> dict[int, float]:
    fused: dict[int, float] = {}
    parts = {}
    for name, scores in channels.items():
        w = weights.get(name, 0.0)
        if w != 0.0:
            parts[name] = (w, *normalise(scores, method))
    docs = set().union(*(s for _, s, _ in parts.values())) if parts else set()
    for doc in docs:
        fused[doc] = sum(w * normed.get(doc, floor) for w, normed, floor in parts.values())
    return fused
