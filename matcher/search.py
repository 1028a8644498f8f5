"""Search over a loaded index version: ranked technologies with score, id, title and institutions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import ValidationError
from matcher.records import Technology
from matcher.retrieval.relevance import RelevanceModel
from matcher.settings import MAX_QUERY_CHARS, MAX_TOP_K
from matcher.store.versions import IndexStore, IndexVersion, check_encoders


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    technology: Technology
    components: dict[str, Any] = field(default_factory=dict)
    relevance: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        t = self.technology
        return {
            "rank": self.rank,
            **t.summary(),
            "relevance": round(float(self.relevance), 3),
            "score": round(float(self.score), 6),
            "institution": t.owner,
            "applicants": list(t.applicants),
            "components": self.components,
        }


def check_query_text(text: object, field: str = "query", limit: int = MAX_QUERY_CHARS) -> str:
    """The one check of a text to search or match with (a search query, a demand's text, each of its
    requirements, a licensee query): text, not blank, at most ``limit`` characters, with at least one
    letter or digit. Returns ``text``; raises :class:`ValidationError` naming ``field``.

    The CLI and the service (its request schemas) both call it, so they accept the same texts."""
    if not isinstance(text, str):
        raise ValidationError(f"{field} must be text, got {type(text).__name__}", field=field)
    if not text.strip():
        raise ValidationError(f"{field} is empty; give the words to search for", field=field)
    if len(text) > limit:
        raise ValidationError(f"{field} is {len(text):,} characters; the limit is {limit:,}", field=field)
    if not any(c.isalnum() for c in text):
        raise ValidationError(f"{field} {text[:40]!r} has no letters or digits; give the words to search for",
                              field=field)
    return text


def check_demand_texts(text: str | None, requirements: Sequence[str] | None, *, text_limit: int = MAX_QUERY_CHARS,
                       requirement_limit: int = MAX_QUERY_CHARS) -> None:
    """A demand's texts: every requirement passes :func:`check_query_text` (field ``requirements.I``), and
    so does the text when it is not blank; a demand needs a text or at least one requirement."""
    for i, requirement in enumerate(requirements or ()):
        check_query_text(requirement, f"requirements.{i}", requirement_limit)
    if isinstance(text, str) and text.strip():
        check_query_text(text, "text", text_limit)
    elif text is not None and not isinstance(text, str):
        check_query_text(text, "text", text_limit)
    elif not requirements:
        raise ValidationError("a demand needs 'text' (with letters or digits) or 'requirements'; both are empty",
                              field="text")


def check_query(text: str, top_k: int) -> None:
    check_query_text(text, "query")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise ValidationError(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}", field="top_k")


class Searcher:
    """Search over one index version with its retrieval pipeline."""

    def __init__(self, version: IndexVersion, relevance: RelevanceModel | None = None) -> None:
        self.version = version
        self.relevance = relevance or RelevanceModel(version.retriever)

    def search(self, text: str, top_k: int = 10, *, visible: np.ndarray | None = None) -> list[Hit]:
        """Ranked technologies; ``visible`` (a mask by position, ``None``: all) filters before ranking
        (never after truncation)."""
        check_query(text, top_k)
        scored = self.version.retriever.search(text, top_k, allowed=visible)
        relevance = self.relevance.of_hits(text, scored)
        techs = self.version.technologies
        return [Hit(rank=i + 1, score=s.score, technology=techs[s.position], components=s.components,
                    relevance=float(r)) for i, (s, r) in enumerate(zip(scored, relevance, strict=True))]


#: one Korean and one English query :func:`warm_up` runs
WARM_UP_QUERIES = ("배터리 열관리 시스템", "battery thermal management")


def warm_up(version: IndexVersion) -> None:
    """Run a Korean and an English query through ``version``'s search path, so what is made on first use
    (Kiwi's model, about 1.3 s; encoder sessions; the per-language routing arrays) is made now, by one thread,
    not by the first requests a server answers."""
    for text in WARM_UP_QUERIES:
        version.retriever.search(text, 1)


def open_index(index_dir: str | Path, encoder: str | None = None) -> IndexVersion:
    """The current version under ``index_dir``, with the encoders it was built with.

    A configured ``encoder`` (name, directory or model name) whose identity differs from the one in
    the manifest is refused (:class:`IndexMismatchError`).
    """
    from matcher.encoders import load_encoder

    store = IndexStore(index_dir)
    if encoder is None:
        return store.load()
    built = store.read_manifest().get("encoders", {})
    loaded = load_encoder(encoder)
    name = encoder if encoder in built else loaded.identity.name
    if name not in built:
        check_encoders(store.current_path(), built, {name: loaded})  # raises: not what the index was built with
    return store.load({name: loaded})
