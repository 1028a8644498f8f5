"""The interface of an embed runner: where the texts a build must embed are encoded.

A runner gets the texts the embedding cache does not hold (``CachedEncoder``'s misses,
``matcher/encoders/cache.py``) and yields their vectors chunk by chunk — positions into the texts and
the vectors, row for row, in any order — so the cache stores each chunk as it arrives. ``local`` encodes
in this process (the build's behaviour without a runner); ``ray`` on a Ray cluster
(``matcher/runners/ray_data.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from types import TracebackType

import numpy as np

from matcher.encoders.base import Encoder
from matcher.encoders.cache import Chunk


class EmbedRunner(ABC):
    """Encodes texts with an encoder somewhere: in this process or on a cluster."""

    #: the runner's name (``--runner``, ``MATCHER_RUNNER``, the nightly config's ``[job] runner``)
    name: str = ""
    #: texts sent to this runner to encode (a rebuild whose texts the cache holds sends none)
    sent: int = 0

    def check(self, encoder: Encoder) -> None:
        """Refuse (``ConfigError``) an encoder this runner cannot run, before anything is encoded."""
        return None

    @abstractmethod
    def encode_chunks(self, encoder: Encoder, texts: Sequence[str], *, role: str = "document",
                      chunk_size: int = 512, progress: bool = False) -> Iterator[Chunk]:
        """``texts`` encoded as ``encoder`` does (role ``document`` or ``query``): (positions, vectors) per
        chunk of at most ``chunk_size``, every position exactly once, chunks in any order."""

    def encode(self, encoder: Encoder, texts: Sequence[str], *, role: str = "document") -> np.ndarray:
        """Every text's vector, in the order of ``texts``: (len(texts), dimension) float32."""
        out = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
        seen = np.zeros(len(texts), dtype=bool)
        for positions, vectors in self.encode_chunks(encoder, texts, role=role):
            out[positions] = vectors
            seen[positions] = True
        if not seen.all():
            raise ValueError(f"runner {self.name!r} returned no vector for {int((~seen).sum())} of {len(texts)} texts")
        return out

    def close(self) -> None:
        """Release what the runner holds (a Ray runner that started its own cluster stops it)."""
        return None

    def __enter__(self) -> EmbedRunner:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
