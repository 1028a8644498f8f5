"""The ``local`` runner: texts encoded in this process, in order (what a build does without a runner)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from matcher.encoders.base import Encoder
from matcher.encoders.cache import Chunk, encode_in_chunks
from matcher.runners.base import EmbedRunner


class LocalRunner(EmbedRunner):
    """Encodes with the encoder object itself, ``chunk_size`` texts at a time."""

    name = "local"

    def encode_chunks(self, encoder: Encoder, texts: Sequence[str], *, role: str = "document",
                      chunk_size: int = 512, progress: bool = False) -> Iterator[Chunk]:
        self.sent += len(texts)
        yield from encode_in_chunks(encoder, texts, role=role, chunk_size=chunk_size, progress=progress)
