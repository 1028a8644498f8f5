"""Encoders: one interface (:class:`Encoder`), several backends, a registry and factory by name."""

from __future__ import annotations

from matcher.encoders.base import Encoder, EncoderIdentity, l2_normalise
from matcher.encoders.cache import CachedEncoder, EmbeddingCache
from matcher.encoders.registry import load_encoder, load_registry

__all__ = [
    "CachedEncoder",
    "EmbeddingCache",
    "Encoder",
    "EncoderIdentity",
    "l2_normalise",
    "load_encoder",
    "load_registry",
]
