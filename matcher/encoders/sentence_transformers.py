"""Encoder backed by any sentence-transformers model: a directory, a packaged model or a hub name.

Loading never reaches a hub unless the user configured a hub name (and then honours
``HF_HUB_OFFLINE``); the default model is read from an installed package's directory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder, EncoderIdentity, l2_normalise
from matcher.encoders.text import prepare
from matcher.errors import ConfigError
from matcher.runtime import size_torch_threads

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.onnx")


@lru_cache(maxsize=16)
def _file_digest(path: str, size: int, mtime: float) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def weights_revision(model_dir: Path) -> str:
    """``sha256:<hex>`` of the first weights file found in ``model_dir``, or 'unknown'."""
    for name in _WEIGHT_FILES:
        path = model_dir / name
        if path.is_file():
            st = path.stat()
            return "sha256:" + _file_digest(str(path), st.st_size, st.st_mtime)
    return "unknown"


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers model; prefixes and text options come from the registry entry."""

    def __init__(
        self,
        model: str | Path,
        *,
        name: str | None = None,
        languages: Sequence[str] = (),
        query_prefix: str = "",
        document_prefix: str = "",
        lowercase: bool = False,
        batch_size: int = 32,
        max_seq_length: int | None = None,
    ) -> None:
        self.model = str(model)
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.lowercase = lowercase
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._st: Any = None
        model_dir = Path(self.model)
        self._load()
        revision = weights_revision(model_dir) if model_dir.is_dir() else self._hub_revision()
        options: dict[str, Any] = {
            "query_prefix": query_prefix,
            "document_prefix": document_prefix,
            "lowercase": lowercase,
            "max_seq_length": self._st.max_seq_length,
        }
        self.identity = EncoderIdentity(
            name=name or model_dir.name or self.model,
            backend="sentence-transformers",
            model=self.model,
            revision=revision,
            dimension=int(self._dimension()),
            languages=tuple(languages),
            options=options,
        )

    def _load(self) -> None:
        size_torch_threads()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on every command

        try:
            self._st = SentenceTransformer(self.model, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...
            offline = os.environ.get("HF_HUB_OFFLINE") == "1"
            hint = " (HF_HUB_OFFLINE=1: hub names load only from the local cache)" if offline else ""
            raise ConfigError(
                f"cannot load sentence-transformers model {self.model!r}{hint}: {type(exc).__name__}: {exc}"
            ) from exc
        if self.max_seq_length:
            self._st.max_seq_length = self.max_seq_length

    def _dimension(self) -> int:
        getter = getattr(self._st, "get_embedding_dimension", None) or self._st.get_sentence_embedding_dimension
        return int(getter())

    def _hub_revision(self) -> str:
        # A hub name resolved from the local cache: its snapshot directory name is the commit.
        path = getattr(self._st, "model_card_data", None)
        commit = getattr(path, "base_model_revision", None) if path is not None else None
        return str(commit or "hub:" + self.model)

    def _encode(self, texts: Sequence[str], prefix: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [prefix + prepare(t, lowercase=self.lowercase) for t in texts]
        vectors = self._st.encode(
            prepared,
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return l2_normalise(vectors)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.document_prefix, progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.query_prefix, progress)
