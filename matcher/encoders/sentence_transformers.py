"""Encoder backed by any sentence-transformers model: a directory, a packaged model or a hub name.

Loading never reaches a hub unless the user configured a hub name (and then honours
``HF_HUB_OFFLINE``); the default model is read from an installed package's directory.

``query_runtime = "onnx"`` (registry option) runs ``encode_queries`` through a float32 ONNX export of the same
weights (:class:`matcher.encoders.onnx.OnnxRunner`, made once per machine in ``MATCHER_MODEL_CACHE``): one short
query costs several ms in onnxruntime against tens of ms through PyTorch's per-operator dispatch, and it releases
the GIL. The vectors are the PyTorch model's (checked on load: a probe text both ways must agree to
:data:`QUERY_RUNTIME_TOLERANCE`, else queries stay on PyTorch with a warning), so the identity does not change.
Documents always go through PyTorch.

``query_runtime = "onnx-int8"`` runs ``encode_queries`` through the int8 per-channel export of the ``minilm-int8``
encoder (:data:`matcher.encoders.onnx.RECIPE`), one text per run as that encoder does, so a query's vector depends
on its text only. Its vectors are not the PyTorch model's (cosine ≈ 0.995; checked on load: a probe's cosine to the
PyTorch vector must reach :data:`INT8_QUERY_MIN_COSINE`, else queries stay on PyTorch with a warning). Documents
still go through PyTorch, so stored vectors and the identity (the index manifests' key) do not change and existing
indexes load; the query vectors' cache key does (:attr:`query_variant`: the embedding cache and the query-vector
cache keep them apart from float query vectors). Measured speed and quality: ``docs/quality.md``.
"""

from __future__ import annotations

import hashlib
import logging
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
QUERY_RUNTIMES = ("torch", "onnx", "onnx-int8")
#: largest difference per component allowed between a probe's ONNX and PyTorch vectors (measured: ≈ 1e-7)
QUERY_RUNTIME_TOLERANCE = 1e-5
#: smallest cosine allowed between a probe's int8 ONNX and PyTorch vectors (measured: ≈ 0.99 and above)
INT8_QUERY_MIN_COSINE = 0.98
_PROBE = "Query runtime probe: a lithium battery separator coated with ceramic particles, 2026."
log = logging.getLogger(__name__)


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


def _int8_recipe() -> str:
    from matcher.encoders.onnx import RECIPE

    return RECIPE


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
        query_runtime: str = "torch",
    ) -> None:
        if query_runtime not in QUERY_RUNTIMES:
            raise ConfigError(f"query_runtime {query_runtime!r} is not one of {', '.join(QUERY_RUNTIMES)}")
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
        self._int8 = query_runtime == "onnx-int8"  # which export _query_runner makes
        self._queries: Any = self._query_runner() if query_runtime != "torch" else None
        if self._queries is None:  # torch, or the fallback to it
            self._int8 = False
        self._variant = _int8_recipe() if self._int8 else ""

    @property
    def query_runtime(self) -> str:
        """``onnx`` when queries run through the float32 ONNX export, ``onnx-int8`` through the int8 one, else
        ``torch``."""
        return "torch" if self._queries is None else "onnx-int8" if self._int8 else "onnx"

    @property
    def query_variant(self) -> str:
        """The int8 recipe when queries run int8 (their vectors are not the PyTorch model's), else ``""``."""
        return self._variant

    def _query_runner(self) -> Any:
        """The ONNX runner for queries, or ``None`` (with a warning) when it cannot be made or does not
        reproduce this model's vectors on a probe (int8: close to them, :data:`INT8_QUERY_MIN_COSINE`)."""
        from matcher.encoders.onnx import FLOAT_RECIPE, RECIPE, OnnxRunner, derived_model

        model_dir = Path(self.model)
        if not (model_dir / "tokenizer.json").is_file() or not (model_dir / "config.json").is_file():
            log.warning("%s: queries stay on PyTorch (no tokenizer.json/config.json in %s)", self.identity.name,
                        model_dir)
            return None
        try:
            if self._int8:
                path = derived_model(model_dir, self.identity.name, RECIPE, quantise=True)
            else:
                path = derived_model(model_dir, self.identity.name, FLOAT_RECIPE, quantise=False)
            # one thread: a query is a few dozen tokens, too little work to share (a second thread only waits
            # for a core when requests or other jobs keep both busy); set_threads changes it
            runner = OnnxRunner(path, model_dir, max_seq_length=int(self._st.max_seq_length), threads=1)
            got = l2_normalise(runner.run([self.query_prefix + prepare(_PROBE, lowercase=self.lowercase)]))
        except Exception as exc:  # export or session failures of any kind: PyTorch still serves
            log.warning("%s: queries stay on PyTorch (ONNX export failed: %s: %s)", self.identity.name,
                        type(exc).__name__, exc)
            return None
        want = self._encode([_PROBE], self.query_prefix, False)
        if self._int8:
            cosine = float((got * want).sum())
            if cosine < INT8_QUERY_MIN_COSINE:
                log.warning("%s: queries stay on PyTorch (the int8 ONNX export's cosine is %.4f on a probe)",
                            self.identity.name, cosine)
                return None
            return runner
        gap = float(np.abs(got - want).max())
        if gap > QUERY_RUNTIME_TOLERANCE:
            log.warning("%s: queries stay on PyTorch (the ONNX export differs by %.2g on a probe)",
                        self.identity.name, gap)
            return None
        return runner

    def set_threads(self, threads: int) -> None:
        """Threads of later query encodes through ONNX (torch's own pool is sized process-wide)."""
        if self._queries is not None:
            self._queries.set_threads(threads)

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
        if self._queries is None or not texts:
            return self._encode(texts, self.query_prefix, progress)
        prepared = [self.query_prefix + prepare(t, lowercase=self.lowercase) for t in texts]
        if self._int8:  # one text per run: int8 activations are scaled per run (see matcher/encoders/onnx.py)
            return l2_normalise(np.vstack([self._queries.run([text or " "]) for text in prepared]))
        chunks = [self._queries.run(prepared[i:i + self.batch_size])
                  for i in range(0, len(prepared), self.batch_size)]
        return l2_normalise(np.vstack(chunks))
