"""The encoder interface: ``encode_documents`` / ``encode_queries`` returning L2-normalised float32.

Every backend (sentence-transformers, USE, ...) implements :class:`Encoder` and carries an
:class:`EncoderIdentity`; the identity's ``key`` is what indexes and the embedding cache compare.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class EncoderIdentity:
    """What makes two encoders interchangeable: same weights, same dimension, same text handling."""

    name: str
    backend: str
    model: str
    revision: str
    dimension: int
    languages: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A short stable key: name, dimension and a digest of everything that changes vectors."""
        payload = json.dumps(
            {"backend": self.backend, "revision": self.revision, "dimension": self.dimension, "options": self.options},
            sort_keys=True,
        )
        digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
        return f"{self.name}/{self.dimension}/{digest}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["languages"] = list(self.languages)
        data["key"] = self.key
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncoderIdentity:
        known = {"name", "backend", "model", "revision", "dimension", "languages", "options"}
        data = {k: v for k, v in data.items() if k in known}
        data["languages"] = tuple(data.get("languages", ()))
        return cls(**data)


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as contiguous float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


class Encoder(ABC):
    """Turns texts into unit vectors; documents and queries may be encoded differently."""

    identity: EncoderIdentity
    #: the string the encoder was loaded from (registry name, model directory or model name)
    spec: str = ""

    @property
    def dimension(self) -> int:
        return self.identity.dimension

    @property
    def query_variant(self) -> str:
        """Non-empty when query vectors are not those the identity stands for (a sentence-transformers encoder
        whose queries run int8): caches of query vectors key them by identity and this, documents by identity."""
        return ""

    @property
    def query_key(self) -> str:
        """The key of this encoder's query vectors: the identity's, plus :attr:`query_variant` if any."""
        variant = self.query_variant
        return f"{self.identity.key}+{variant}" if variant else self.identity.key

    @abstractmethod
    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """(len(texts), dimension) float32, rows L2-normalised."""

    @abstractmethod
    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """(len(texts), dimension) float32, rows L2-normalised."""
