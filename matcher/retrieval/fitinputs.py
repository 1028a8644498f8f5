"""What a :class:`~matcher.retrieval.retriever.HybridRetriever` is fitted from, computed ahead of fitting.

Fitting is three steps: *tokenize* the documents (the lexical channel's tokens and the Korean nouns of
the term translator's vocabulary), *embed* them (each dense channel's documents, and the vocabulary with
the multilingual encoder), then *index* (BM25, vector indexes, translator) from those two.
``HybridRetriever.fit`` runs all three; ``HybridRetriever.fit_from`` runs the last one on inputs computed
elsewhere — by the staged build (``matcher/build_stages.py``), which keeps them on disk between steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class DocumentTokens:
    """The analysed documents: ``tokens[i]`` are document i's lexical tokens (``None`` when the pipeline
    has no lexical channel); ``vocabulary`` the sorted distinct Korean nouns met on the way."""

    tokens: list[list[str]] | None
    vocabulary: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DenseVectors:
    """One dense channel's documents: ``vectors[i]`` is the unit vector of document ``rows[i]``."""

    rows: np.ndarray
    vectors: np.ndarray


@dataclass(frozen=True)
class DocumentEmbeddings:
    """Every dense channel's document vectors by encoder name, and the term translator's vocabulary
    vectors (row i = ``DocumentTokens.vocabulary[i]``; ``None``: no translator, or let the fit embed it)."""

    dense: Mapping[str, DenseVectors]
    vocabulary: np.ndarray | None = None
