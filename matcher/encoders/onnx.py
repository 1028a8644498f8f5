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

The same export without quantisation (``FLOAT_RECIPE``) is what a ``sentence-transformers`` encoder with
``query_runtime = "onnx"`` runs its queries through (:mod:`matcher.encoders.sentence_transformers`): float32,
equal to the PyTorch model's vectors to about 1e-7, several times faster on one short text. With
``query_runtime = "onnx-int8"`` (``minilm``'s, the default; ``minilm-f32q`` keeps the float export) its queries run through this module's int8 file
instead, one text per run as :class:`OnnxInt8Encoder` does (about half the CPU of the float export per query).
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

#: bump when the export, fusion or quantisation recipe changes (the cached file is then rebuilt); v3: texts are
#: no longer padded to the tokenizer file's fixed 128 tokens (int8 activations were scaled with the pad rows)
RECIPE = "onnx-int8-v3"
#: the float32 export (fused, not quantised) a sentence-transformers encoder runs its queries through
FLOAT_RECIPE = "onnx-fp32-v1"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_cache() -> Path:
    """Where derived model files live: ``MATCHER_MODEL_CACHE``, else ``~/.cache/matcher/models``."""
    configured = settings_from_env().model_cache
    return Path(configured) if configured else Path.home() / ".cache" / "matcher" / "models"


def derived_model(model_dir: Path, name: str, recipe: str, *, quantise: bool) -> Path:
    """The ONNX file of ``model_dir`` made by ``recipe`` in the model cache, exported now if missing (once per
    machine: keyed by the source weights' digest and the recipe)."""
    source = weights_revision(model_dir)
    path = model_cache() / "onnx" / f"{name}-{source.split(':')[-1][:16]}-{recipe}.onnx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        log.info("exporting %s to %s (once per machine)", model_dir, path)
        _export(model_dir, path, quantise=quantise)
    return path


def _export(model_dir: Path, target: Path, *, quantise: bool) -> None:
    """ONNX export (transformer + mean pooling) → BERT fusion → (``quantise``) int8 per-channel dynamic
    quantisation. Written beside ``target`` and renamed into place, so concurrent exports are safe."""
    import warnings

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
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on transformers' code, not the user's concern
        plain, fused = Path(tmp) / "model.onnx", Path(tmp) / "fused.onnx"
        torch.onnx.export(Pooled(), tuple(sample[name] for name in INPUTS), str(plain), input_names=list(INPUTS),
                          output_names=["sentence_embedding"],
                          dynamic_axes={**axes, "sentence_embedding": {0: "batch"}}, opset_version=17, dynamo=False)
        optimised = optimizer.optimize_model(str(plain), model_type="bert", opt_level=1,
                                             num_heads=int(config["num_attention_heads"]),
                                             hidden_size=int(config["hidden_size"]))
        optimised.save_model_to_file(str(fused))
        partial = Path(tmp) / "partial.onnx"
        if quantise:
            quantize_dynamic(str(fused), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        else:
            partial = fused
        os.replace(partial, target)


class OnnxRunner:
    """An exported model (``path``) and ``model_dir``'s tokenizer in one onnxruntime session: ``run(texts)``
    gives the mean-pooled (not normalised) vectors. Texts in one call are padded to the longest of them, never
    to the tokenizer file's fixed length. ``run`` is thread-safe and releases the GIL."""

    def __init__(self, path: Path, model_dir: Path, *, max_seq_length: int, threads: int) -> None:
        from tokenizers import Tokenizer

        self.path = path
        self.threads = threads
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_seq_length)
        self._tokenizer.no_padding()
        self._session = self._open(threads)
        self._wanted = {i.name for i in self._session.get_inputs()}

    def _open(self, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def set_threads(self, threads: int) -> None:
        if threads != self.threads:
            self.threads = threads
            self._session = self._open(threads)

    @property
    def dimension(self) -> int:
        return int(self._session.get_outputs()[0].shape[-1] or 0) or int(self.run(["dimension probe"]).shape[1])

    def run(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return np.asarray(self._session.run(None, {k: v for k, v in feed.items() if k in self._wanted})[0])


class OnnxInt8Encoder(Encoder):
    """``model_dir`` (a sentence-transformers directory of a BERT-family model) through onnxruntime, int8."""

    def __init__(self, model_dir: str | Path, *, name: str, languages: Sequence[str] = (),
                 max_seq_length: int | None = None, threads: int | None = None,
                 lowercase: bool = False) -> None:
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "tokenizer.json").is_file():
            raise ConfigError(f"encoder {name!r}: {self.model_dir} has no tokenizer.json "
                              "(a sentence-transformers model directory is needed)")
        self.path = derived_model(self.model_dir, name, RECIPE, quantise=True)
        self.max_seq_length = max_seq_length or configured_length(self.model_dir)
        self.lowercase = lowercase
        self._runner = OnnxRunner(self.path, self.model_dir, max_seq_length=self.max_seq_length,
                                  threads=threads or cpu_threads())
        self.identity = EncoderIdentity(
            name=name, backend="onnx-int8", model=str(self.model_dir),
            revision=f"{weights_revision(self.model_dir)}+{RECIPE}", dimension=self._runner.dimension,
            languages=tuple(languages),
            options={"max_seq_length": self.max_seq_length, "lowercase": lowercase, "one_text_per_run": True})

    @property
    def threads(self) -> int:
        return self._runner.threads

    def set_threads(self, threads: int) -> None:
        """Threads of later encodes (the service uses 1 per request; builds the machine's count)."""
        self._runner.set_threads(threads)

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
            out[i] = self._runner.run([prepared[i]])[0]
        return l2_normalise(out)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)


def configured_length(model_dir: Path) -> int:
    """``max_seq_length`` of a sentence-transformers directory (256 when it does not say)."""
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", 256))
    return 256
