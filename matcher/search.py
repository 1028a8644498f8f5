"""Search over a loaded index version: ranked technologies with score, id, title and institutions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder
from matcher.errors import ValidationError
from matcher.index.store import IndexStore, IndexVersion
from matcher.records import Technology

MAX_TOP_K = 1000
MAX_QUERY_CHARS = 20_000


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    technology: Technology

    def to_dict(self) -> dict[str, Any]:
        t = self.technology
        return {
            "rank": self.rank,
            "id": t.id,
            "score": round(float(self.score), 6),
            "title": t.title,
            "title_en": t.title_en,
            "institution": t.owner,
            "institutions": list(t.institutions or t.applicants),
            "applicants": list(t.applicants),
            "ipc": list(t.ipc),
            "application_date": t.application_date,
            "legal_status": t.legal_status,
        }


def check_query(text: str, top_k: int) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("the query text is empty", field="query")
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(f"the query is {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}", field="query")
    if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise ValidationError(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}", field="top_k")


class Searcher:
    """Dense search over one index version with the encoder it was built with."""

    def __init__(self, version: IndexVersion, encoder: Encoder) -> None:
        self.version = version
        self.encoder = encoder

    def allowed_positions(self, keep: Callable[[Technology], bool] | None) -> np.ndarray | None:
        if keep is None:
            return None
        return np.array([i for i, t in enumerate(self.version.technologies) if keep(t)], dtype=np.int64)

    def search(
        self, text: str, top_k: int = 10, *, keep: Callable[[Technology], bool] | None = None
    ) -> list[Hit]:
        return self.search_many([text], top_k, keep=keep)[0]

    def search_many(
        self, texts: Sequence[str], top_k: int = 10, *, keep: Callable[[Technology], bool] | None = None
    ) -> list[list[Hit]]:
        for text in texts:
            check_query(text, top_k)
        queries = self.encoder.encode_queries(list(texts))
        scores, positions = self.version.vectors.search(queries, top_k, allowed=self.allowed_positions(keep))
        techs = self.version.technologies
        results = []
        for row_scores, row_pos in zip(scores, positions, strict=True):
            hits = [
                Hit(rank=r + 1, score=float(s), technology=techs[int(p)])
                for r, (s, p) in enumerate(zip(row_scores, row_pos, strict=True))
                if p >= 0
            ]
            results.append(hits)
        return results


def open_index(index_dir: str | Path, encoder: str | None = None) -> tuple[IndexVersion, Encoder]:
    """The current version under ``index_dir`` and its encoder.

    Without a configured ``encoder`` the one named in the manifest is loaded; a configured encoder
    whose identity differs from the manifest's is refused (:class:`IndexMismatchError`).
    """
    from matcher.encoders import load_encoder

    store = IndexStore(index_dir)
    built = store.read_manifest()["encoder"]
    loaded = load_encoder(encoder or built.get("model_spec") or built["name"])
    return store.load(encoder_key=loaded.identity.key), loaded
