"""Calibrated relevance in [0, 1] for retriever hits: what officers see instead of fused z-scores.

The fused score of the hybrid retriever is relative to the corpus (a z-score): the top hit of an off-topic
query still scores high. :class:`RelevanceModel` maps each hit to a calibrated probability of being a right
answer (``matcher/retrieval/calibration.py``, fitted on the dev sets; ``docs/quality.md``) from absolute
features (raw cosine, the share of the query's BM25 upper bound reached, the fused score). A requirement that
*names* a technology's title is strong evidence the retriever does not see: title overlap (Dice of key terms,
:func:`title_overlap`) is combined with the calibrated value as a noisy-or,
``1 − (1 − relevance)·(1 − TITLE_TRUST·dice)``.

Below :data:`RELEVANCE_FLOOR` a technology does not answer a requirement: it is a gap, not a weak match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from matcher.retrieval.retriever import HybridRetriever, Scored

#: how much an exact title match (Dice 1.0) counts as evidence on its own
TITLE_TRUST = 0.9


def _calibrator() -> Any | None:
    try:
        from matcher.retrieval.calibration import load_calibrator
    except ImportError:  # pragma: no cover - the calibration module ships with the package
        return None
    return load_calibrator()


def default_floor() -> float:
    try:
        from matcher.retrieval.calibration import RELEVANCE_FLOOR
    except ImportError:  # pragma: no cover
        return 0.3
    return float(RELEVANCE_FLOOR)


RELEVANCE_FLOOR = default_floor()


def title_overlap(req: set[str], title: set[str]) -> float:
    """Dice coefficient of two key-term sets: 1.0 when a requirement names the technology's title exactly.

    Requirements are often the name of a technology; a facet's fused score alone ranks a long title that
    contains the short name's words above the record that bears exactly that name.
    """
    if not req or not title:
        return 0.0
    return 2.0 * len(req & title) / (len(req) + len(title))


class RelevanceModel:
    """Calibrated relevance of hits of one retriever (see the module docstring)."""

    def __init__(self, retriever: HybridRetriever, calibrator: Any | None = None, *, calibrated: bool = True) -> None:
        self.retriever = retriever
        self.calibrator = calibrator if calibrator is not None or not calibrated else _calibrator()

    def of_hits(self, text: str, hits: Sequence[Scored]) -> np.ndarray:
        """Relevance in [0, 1] of each hit for the query ``text``."""
        if not hits:
            return np.zeros(0)
        # the calibration was fitted on the hybrid pipeline's features (lexical and dense): a pipeline
        # without a dense channel (e.g. ``bm25``) gets the uncalibrated fallback
        if self.calibrator is not None and self.retriever.config.encoders and self.retriever.config.lexical:
            bound = float(self.retriever.lexical_bound(text))
            return np.clip(np.asarray(self.calibrator.predict_scored(list(hits), bound), dtype=np.float64), 0.0, 1.0)
        # uncalibrated fallback: a logistic of the fused score (relative to the corpus)
        return np.array([1.0 / (1.0 + math.exp(-1.5 * (h.score - 2.0))) for h in hits])


def with_title(relevance: np.ndarray, dice: np.ndarray) -> np.ndarray:
    """Noisy-or of calibrated relevance and title evidence."""
    return 1.0 - (1.0 - relevance) * (1.0 - TITLE_TRUST * np.clip(dice, 0.0, 1.0))
