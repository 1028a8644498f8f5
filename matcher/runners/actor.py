"""The callable class Ray Data runs in each actor of the pool: one encoder load per actor, then batches.

A plain class (no Ray import): Ray pickles it by reference, so every worker machine must have the
project installed (``pip install '.[ray]'``) with the same models. The encoder is rebuilt by its
registry name (``load_encoder``), with ``threads`` BLAS/torch threads, so N one-CPU actors on N cores
do not oversubscribe them; every output row carries the encoder's identity key for the driver to check.
"""

from __future__ import annotations

import os

import numpy as np

ROW, TEXT, VECTOR, KEY = "row", "text", "vector", "key"


class EncodeActor:
    """``__init__`` loads the encoder named ``spec``; each call encodes a batch ``{row, text}``."""

    def __init__(self, spec: str, role: str = "document", threads: int = 1) -> None:
        from matcher.encoders import load_encoder
        from matcher.runtime import configure_serving

        os.environ["MATCHER_THREADS"] = str(threads)  # read by the encoders as they load (this process only)
        self.encoder = load_encoder(spec)
        configure_serving([self.encoder], threads=threads)  # BLAS, torch, faiss and the encoder's own pool
        self.key = self.encoder.identity.key
        self.role = role

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch[TEXT]]
        encode = self.encoder.encode_documents if self.role == "document" else self.encoder.encode_queries
        vectors = np.ascontiguousarray(encode(texts), dtype=np.float32)
        return {ROW: np.asarray(batch[ROW], dtype=np.int64), VECTOR: vectors,
                KEY: np.array([self.key] * len(texts), dtype=object)}
