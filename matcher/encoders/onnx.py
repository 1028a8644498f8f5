"""A sentence-transformers BERT-family model run by onnxruntime, int8-quantised (registry backend ``onnx-int8``).

The ONNX file is derived on this machine from the packaged weights — never downloaded: the transformer plus
mean pooling is exported with ``torch.onnx.export``, its attention and layer norms fused by onnxruntime's
BERT optimiser, and every weight matrix quantised to int8 per output channel (dynamic quantisation:
activations stay float and are quantised per batch). The result is cached under
``MATCHER_MODEL_CACHE`` (default ``~/.cache/matcher/models``, beside the evaluation's embedding cache), keyed by the source weights' digest and
the recipe version, so it is made once per machine (about 10 s) and rebuilt when either changes.

Texts are run one at a time: dynamic quantisation scales a batch's activations together, so a text batched
with others (and padded to their length) would get a vector that depends on its batch mates; alone, its
vector is a function of the text only (and on 2 cores one-at-a-time is as fast: the GEMMs are the tokens ×
hidden matrices either way). Vectors differ slightly from the PyTorch model's (cosine ≈ 0.995 on SciFact
abstracts), so the identity is its own: an index built with ``minilm`` is not served with ``minilm-int8``, or the reverse.
Measured quality and speed: ``docs/quality.md``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder, EncoderIdentity, l2_normalise
from matcher.encoders.sentence_transformers import weights_revision
from matcher.encoders.text import prepare
from matcher.errors import ConfigError
from matcher.runtime import cpu_threads
from matcher.settings import settings_from_env

log = logging.getLogger(__name__)

#: bump when the export, fusion or quantisation recipe changes (the cached file is then rebuilt)
RECIPE = "onnx-int8-v2"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_cache() -> Path:
    """Where derived model files live: ``MATCHER_MODEL_CACHE``, else ``~/.cache/matcher/models``."""
    configured = settings_from_env().model_cache
    return Path(configured) if configured else Path.home() / ".cache" / "matcher" / "models"


def _export(model_dir: Path, target: Path) -> None:
    """ONNX export (transformer + mean pooling) → BERT fusion → int8 per-channel dynamic quantisation."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel, AutoTokenizer

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    sample = tokenizer(["an example sentence", "a second, longer example sentence"], return_tensors="pt",
                       padding=True)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        plain, fused = Path(tmp) / "model.onnx", Path(tmp) / "fused.onnx"
        torch.onnx.export(Pooled(), tuple(sample[name] for name in INPUTS), str(plain), input_names=list(INPUTS),
                          output_names=["sentence_embedding"],
                          dynamic_axes={**axes, "sentence_embedding": {0: "batch"}}, opset_version=17, dynamo=False)
        optimised = optimizer.optimize_model(str(plain), model_type="bert", opt_level=1,
                                             num_heads=int(config["num_attention_heads"]),
                                             hidden_size=int(config["hidden_size"]))
        optimised.save_model_to_file(str(fused))
        partial = target.with_suffix(".partial")
        quantize_dynamic(str(fused), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(partial, target)


class OnnxInt8Encoder(Encoder):
    """``model_dir`` (a sentence-transformers directory of a BERT-family model) through onnxruntime, int8."""

    def __init__(self, model_dir: str | Path, *, name: str, languages: Sequence[str] = (),
                 max_seq_length: int | None = None, threads: int | None = None,
                 lowercase: bool = False) -> None:
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "tokenizer.json").is_file():
            raise ConfigError(f"encoder {name!r}: {self.model_dir} has no tokenizer.json "
                              "(a sentence-transformers model directory is needed)")
        source = weights_revision(self.model_dir)
        self.path = model_cache() / "onnx" / f"{name}-{source.split(':')[-1][:16]}-{RECIPE}.onnx"
        if not self.path.is_file():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            log.info("exporting %s to %s (once per machine)", self.model_dir, self.path)
            _export(self.model_dir, self.path)
        self.max_seq_length = max_seq_length or self._configured_length()
        self.lowercase = lowercase
        self._tokenizer = self._load_tokenizer()
        self.threads = threads or cpu_threads()
        self._session = self._open(self.threads)
        dimension = int(self._session.get_outputs()[0].shape[-1] or 0) or self._probe_dimension()
        self.identity = EncoderIdentity(
            name=name, backend="onnx-int8", model=str(self.model_dir), revision=f"{source}+{RECIPE}",
            dimension=dimension, languages=tuple(languages),
            options={"max_seq_length": self.max_seq_length, "lowercase": lowercase, "one_text_per_run": True})

    def _configured_length(self) -> int:
        config = self.model_dir / "sentence_bert_config.json"
        if config.is_file():
            return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", 256))
        return 256

    def _load_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_seq_length)
        return tokenizer

    def _open(self, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def set_threads(self, threads: int) -> None:
        """Threads of later encodes (the service uses 1 per request; builds the machine's count)."""
        if threads != self.threads:
            self.threads = threads
            self._session = self._open(threads)

    def _probe_dimension(self) -> int:
        return int(self._run(["dimension probe"]).shape[1])

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.asarray([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.zeros_like(ids)}
        wanted = {i.name for i in self._session.get_inputs()}
        return np.asarray(self._session.run(None, {k: v for k, v in feed.items() if k in wanted})[0])

    def _encode(self, texts: Sequence[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [prepare(t, lowercase=self.lowercase) or " " for t in texts]
        out = np.zeros((len(prepared), self.dimension), dtype=np.float32)
        rows: Any = range(len(prepared))
        if progress:
            from tqdm.auto import tqdm

            rows = tqdm(rows, desc=f"encoding ({self.identity.name})", unit="text")
        for i in rows:  # one text per run: see the module docstring
            out[i] = self._run([prepared[i]])[0]
        return l2_normalise(out)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)
