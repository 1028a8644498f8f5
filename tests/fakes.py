"""Test doubles: a deterministic fake encoder that needs no model weights (the fast lane's encoder).

:class:`FakeEncoder` hashes a text's lower-cased words and character trigrams (Hangul included) into a fixed
number of signed buckets and L2-normalises: texts sharing words or syllables get a positive cosine, the same
text always the same vector, in microseconds. It is for testing mechanics (shapes, plumbing, ordering rules,
caches, the service), never for quality claims.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

import numpy as np

from matcher.encoders.base import Encoder, EncoderIdentity, l2_normalise

_WORD = re.compile(r"\w+")


def _bucket(feature: str, dimension: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dimension, (1.0 if value >> 63 else -1.0)


class FakeEncoder(Encoder):
    """Hashed bag of words and character trigrams, ``dimension`` buckets, L2-normalised float32."""

    def __init__(self, name: str = "fake", dimension: int = 64) -> None:
        self.identity = EncoderIdentity(name=name, backend="fake", model="hashed-ngrams", revision="1",
                                        dimension=dimension, languages=("ko", "en"))
        self.spec = name
        self.calls = 0  # every encode call, documents and queries
        self.document_calls = 0  # encode_documents calls (what a build embeds)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                features = [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]
                for feature in features:
                    col, sign = _bucket(feature, self.dimension)
                    out[row, col] += sign
        return l2_normalise(out)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.document_calls += 1
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts)


def fake_encoders(names: Sequence[str] = ("minilm", "use-m3")) -> Mapping[str, Encoder]:
    """Fakes standing in for the default pipeline's encoders, under the same names."""
    return {name: FakeEncoder(name, 64 + 16 * i) for i, name in enumerate(names)}
