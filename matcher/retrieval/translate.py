"""Cross-lingual lexical bridge: English query words → Korean corpus morphemes, learned without labels.

The vocabulary is the corpus's own Korean nouns (kiwipiepy NNG/NNP/XR). Each is embedded once with the
multilingual encoder; an English word is translated to its nearest Korean nouns in that space (top
``topk`` with cosine ≥ ``min_cos``), weighted by the cosine. The BM25 channel then scores the Korean
documents with the translated terms, which recovers exact technical-term matches that the dense
channel alone blurs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder
from matcher.errors import ConfigError
from matcher.lru import LRU
from matcher.text.tokenize import _stopwords

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
#: English words whose Korean translations a translator keeps (a handful of (term, cosine) pairs each)
TRANSLATION_CACHE_SIZE = 8192


def content_words(text: str) -> list[str]:
    """Lower-cased English content words of ``text`` (no stop words, no single letters)."""
    stop = _stopwords()
    return [w for w in (m.lower() for m in _WORD.findall(text)) if w not in stop and len(w) > 1]


def korean_vocabulary(nouns: Iterable[str]) -> list[str]:
    """Sorted distinct Hangul nouns."""
    return sorted({n for n in nouns if _HANGUL.search(n)})


class TermTranslator:
    def __init__(self, topk: int = 5, min_cos: float = 0.3) -> None:
        self.topk = topk
        self.min_cos = min_cos
        self._translations: LRU[tuple[str, str], tuple[tuple[str, float], ...]] = LRU(TRANSLATION_CACHE_SIZE)

    def fit(self, vocabulary: Sequence[str], encoder: Encoder, *, vectors: np.ndarray | None = None) -> TermTranslator:
        """Embed ``vocabulary`` with ``encoder`` as documents, or take its ``vectors`` embedded ahead
        (row i = ``vocabulary[i]``, as ``encoder.encode_documents`` returns them)."""
        self._translations.clear()
        self.vocab_ = list(vocabulary)
        if vectors is not None:
            if vectors.shape != (len(self.vocab_), encoder.dimension):
                raise ConfigError(f"translator vocabulary vectors of shape {vectors.shape}; {len(self.vocab_)} "
                                  f"terms with encoder {encoder.identity.key!r} need ({len(self.vocab_)}, "
                                  f"{encoder.dimension})")
            self.vectors_ = np.ascontiguousarray(vectors, dtype=np.float32)
        elif self.vocab_:
            self.vectors_ = encoder.encode_documents(self.vocab_)
        else:
            self.vectors_ = np.zeros((0, encoder.dimension), dtype=np.float32)
        return self

    def translate(self, words: Sequence[str], encoder: Encoder, *,
                  encode: Callable[[list[str]], np.ndarray] | None = None) -> dict[str, list[tuple[str, float]]]:
        """Korean terms for each English word; ``encode`` (default ``encoder.encode_queries``) embeds the
        words, e.g. through a query-vector cache. A word's translation is kept (:data:`TRANSLATION_CACHE_SIZE`
        words per translator): the same words recur across queries."""
        unique = sorted(set(words))
        if not unique or not self.vocab_:
            return {}
        cache = self._translations
        key = encoder.query_key
        out: dict[str, list[tuple[str, float]]] = {}
        todo = []
        for word in unique:
            known = cache.get((key, word))
            if known is None:
                todo.append(word)
            else:
                out[word] = list(known)
        if todo:
            sims = (encode or encoder.encode_queries)(todo) @ self.vectors_.T
            k = min(self.topk, sims.shape[1])
            for i, word in enumerate(todo):
                top = np.argpartition(-sims[i], k - 1)[:k]
                top = top[np.argsort(-sims[i, top], kind="stable")]
                options = tuple((self.vocab_[j], float(sims[i, j])) for j in top if sims[i, j] >= self.min_cos)
                cache.put((key, word), options)
                out[word] = list(options)
        return {w: out[w] for w in unique}

    def save(self, directory: Path) -> dict[str, Any]:
        np.save(directory / "translate_vectors.npy", self.vectors_, allow_pickle=False)
        (directory / "translate_vocab.json").write_text(json.dumps(self.vocab_, ensure_ascii=False), encoding="utf-8")
        return {"topk": self.topk, "min_cos": self.min_cos, "terms": len(self.vocab_)}

    @classmethod
    def load(cls, directory: Path, entry: dict[str, Any]) -> TermTranslator:
        model = cls(topk=entry["topk"], min_cos=entry["min_cos"])
        model.vectors_ = np.load(directory / "translate_vectors.npy", allow_pickle=False)
        model.vocab_ = json.loads((directory / "translate_vocab.json").read_text(encoding="utf-8"))
        return model
