"""The hybrid retriever: a lexical channel (BM25 over language-aware tokens, English queries bridged
to Korean documents by term translation) and dense channels (one encoder for English × English, a
multilingual one for every other pair), fused per query by normalised scores with weights per route.

Every channel scores the whole (filtered) corpus when its index keeps exact vectors, so
normalisation statistics are those of the full score distribution; approximate indexes contribute
their top ``candidates`` and unscored documents get the channel's floor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder
from matcher.errors import ConfigError
from matcher.index.base import VectorIndex
from matcher.index.factory import choose_backend, create_index, index_class
from matcher.lru import LRU
from matcher.retrieval.bm25 import BM25
from matcher.retrieval.config import PipelineConfig
from matcher.retrieval.fusion import NORMALISERS
from matcher.retrieval.querycache import QUERY_TERMS_CACHE_SIZE, QueryVectorCache, default_query_cache
from matcher.retrieval.translate import TermTranslator, content_words, korean_vocabulary
from matcher.text.lang import hangul_share
from matcher.text.tokenize import Analyzer


@dataclass(frozen=True)
class Scored:
    """One ranked document: position, fused score and the parts it was made of."""

    position: int
    score: float
    components: dict[str, Any]


class HybridRetriever:
    """Fit on document texts; search with a query text, optional position filter and top-k."""

    def __init__(self, config: PipelineConfig, encoders: Mapping[str, Encoder], backend: str = "auto", *,
                 query_cache: QueryVectorCache | None = None) -> None:
        missing = [e for e in config.encoders if e not in encoders]
        if missing:
            raise ConfigError(f"pipeline {config.name!r} needs encoder(s) {missing}; loaded: {sorted(encoders)}")
        self.config = config
        self.encoders = dict(encoders)
        self.backend = backend
        self.analyzer = Analyzer(config.analyzer)
        #: query vectors by (encoder key, text): shared by every retriever of the process unless given
        self.query_cache = query_cache if query_cache is not None else default_query_cache()
        #: BM25 query terms by text (they depend on this retriever's analyzer and translator)
        self._terms_cache: LRU[str, dict[str, float]] = LRU(QUERY_TERMS_CACHE_SIZE)

    # ------------------------------------------------------------------ fitting
    def _rows_for(self, encoder: str) -> np.ndarray:
        """Documents an encoder embeds: the English-only encoder skips Korean documents."""
        cfg = self.config
        if encoder == cfg.dense_multi or cfg.dense_multi is None:
            return np.arange(self.n_, dtype=np.int64)
        return np.flatnonzero(~self.korean_).astype(np.int64)

    def fit(self, texts: Sequence[str], *, progress: bool = False, keep_tokens: bool = False) -> HybridRetriever:
        """Index ``texts``; with ``keep_tokens`` the analysed tokens stay in ``tokens_`` (for grouping)."""
        cfg = self.config
        self._terms_cache.clear()  # terms depend on the translator fitted below
        self.n_ = len(texts)
        self.korean_ = np.array([hangul_share(t) >= cfg.korean_threshold for t in texts], dtype=bool)
        nouns: set[str] = set()
        self.bm25_: BM25 | None = None
        if cfg.lexical:
            tokens = self.analyzer.analyze_many(texts, progress=progress, nouns=nouns)
            self.bm25_ = BM25(cfg.k1, cfg.b).fit(tokens)
            if keep_tokens:
                self.tokens_ = tokens
        self.dense_: dict[str, tuple[np.ndarray, VectorIndex]] = {}
        for name in cfg.encoders:
            rows = self._rows_for(name)
            vectors = self.encoders[name].encode_documents([texts[i] for i in rows], progress=progress)
            backend = choose_backend(self.backend, len(rows))
            self.dense_[name] = (rows, create_index(backend, vectors.shape[1], len(rows)).fit(vectors))
        self.translator_: TermTranslator | None = None
        if cfg.lexical and cfg.translate and cfg.dense_multi and self.korean_.any():
            self.translator_ = TermTranslator(cfg.translate_topk, cfg.translate_min_cos).fit(
                korean_vocabulary(nouns), self.encoders[cfg.dense_multi]
            )
        return self

    def document_vectors(self) -> np.ndarray | None:
        """Every document's vector from the multilingual encoder (row = position), if it keeps them flat."""
        name = self.config.dense_multi or self.config.dense_en
        if not name or name not in self.dense_:
            return None
        rows, index = self.dense_[name]
        matrix = index.matrix()
        if matrix is None or rows.size != self.n_:
            return None
        return matrix[np.argsort(rows)]

    # ------------------------------------------------------------------ querying
    def is_korean(self, text: str) -> bool:
        return hangul_share(text) >= self.config.korean_threshold

    def query_vectors(self, name: str, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of ``texts`` by encoder ``name``, through the query-vector cache."""
        return self.query_cache.vectors(self.encoders[name], texts)

    def _query_encoders(self, text: str) -> list[str]:
        """The encoders :meth:`search` will run ``text`` through (as routed there)."""
        cfg = self.config
        multi = cfg.dense_multi or cfg.dense_en
        if not cfg.encoders or multi is None:
            return []
        names = [multi]
        if not self.is_korean(text) and cfg.dense_en and cfg.dense_en != multi:
            rows = self.dense_.get(cfg.dense_en, (np.zeros(0), None))[0]
            if rows.size:  # documents routed to the English encoder exist
                names.append(cfg.dense_en)
        return names

    def prepare(self, texts: Sequence[str]) -> None:
        """Encode ``texts`` ahead of searching them: one batch call per encoder for every text (and
        every English word the term translator will look up) not cached yet.

        A demand's whole text and requirements are prepared together, so the many searches that
        follow find their vectors in the cache."""
        per_encoder: dict[str, list[str]] = {}
        multi = self.config.dense_multi
        for text in dict.fromkeys(texts):
            for name in self._query_encoders(text):
                per_encoder.setdefault(name, []).append(text)
            if multi and self.translator_ is not None and self.bm25_ is not None and not self.is_korean(text):
                per_encoder.setdefault(multi, []).extend(sorted(set(content_words(text))))
        for name, batch in per_encoder.items():
            self.query_vectors(name, list(dict.fromkeys(batch)))

    def query_terms(self, text: str) -> dict[str, float]:
        """Weighted BM25 query terms; English queries also get translated Korean terms (cached per text)."""
        cached = self._terms_cache.get(text)
        if cached is None:
            cached = self._query_terms(text)
            self._terms_cache.put(text, cached)
        return dict(cached)

    def _query_terms(self, text: str) -> dict[str, float]:
        korean = self.is_korean(text)
        terms: Counter[str] = Counter(self.analyzer.analyze(text))
        weights = {t: float(c) for t, c in terms.items()}
        if not korean and self.translator_ is not None and self.config.dense_multi:
            name = self.config.dense_multi
            translated = self.translator_.translate(content_words(text), self.encoders[name],
                                                    encode=lambda words: self.query_vectors(name, words))
            for options in translated.values():
                for term, cos in options:
                    weights[term] = weights.get(term, 0.0) + cos
                    if self.config.translate_bigrams and self.config.analyzer.hangul_bigrams:
                        grams = self.analyzer._bigrams(term)
                        for g in grams:
                            weights[g] = weights.get(g, 0.0) + cos / len(grams)
        return weights

    def lexical_bound(self, text: str) -> float:
        """The highest BM25 score a document could reach for ``text``'s own terms: Σ count·idf·(k1+1)
        over the analysed query terms (a term's BM25 weight in a document is idf·tf·(k1+1)/(tf+norm),
        always below idf·(k1+1)); the denominator of the calibration feature ``lexical_frac``.

        Terms added by translating an English query are left out, so an English query's bound is the same
        on an English-only and on a mixed corpus (translated Korean terms can never match an English
        document); on Korean documents their matches still count in the score, which the en-ko
        calibration accounts for. A term absent from the corpus counts with the idf of document
        frequency 0, so a query whose words the corpus lacks has a bound no document approaches.
        0.0 without a lexical channel.
        """
        if self.bm25_ is None:
            return 0.0
        bm25 = self.bm25_
        n_docs = len(bm25)
        indptr = bm25.weights_t_.indptr  # row t of the term × document matrix: the documents holding t
        total = 0.0
        for term, count in Counter(self.analyzer.analyze(text)).items():
            col = bm25.vocab_.get(term)
            df = 0 if col is None else int(indptr[col + 1] - indptr[col])
            total += count * float(np.log1p((n_docs - df + 0.5) / (df + 0.5))) * (bm25.k1 + 1.0)
        return float(total)

    def _dense_scores(self, name: str, text: str, mask: np.ndarray) -> np.ndarray:
        rows, index = self.dense_[name]
        out = np.full(self.n_, np.nan, dtype=np.float32)
        q = self.query_vectors(name, [text])
        matrix = index.matrix()
        if matrix is not None:
            out[rows] = matrix @ q[0]
            return out
        allowed = np.flatnonzero(mask[rows]).astype(np.int64)
        scores, local = index.search(q, self.config.candidates, allowed=allowed)
        keep = local[0] >= 0
        out[rows[local[0][keep]]] = scores[0][keep]
        return out

    def search(self, text: str, k: int = 10, *, allowed: np.ndarray | None = None,
               within: np.ndarray | None = None) -> list[Scored]:
        """Top ``k`` documents for ``text``; ``allowed`` (boolean mask or positions) filters before ranking.

        ``within`` (a boolean mask) restricts the returned documents further without changing the
        normalisation statistics, which stay those of ``allowed``: scores of a few chosen candidates that
        are comparable with the scores of a search over everything allowed."""
        cfg = self.config
        mask = np.ones(self.n_, dtype=bool)
        if allowed is not None:
            allowed = np.asarray(allowed)
            if allowed.dtype == bool:
                mask = allowed.copy()
            else:
                mask = np.zeros(self.n_, dtype=bool)
                mask[allowed.astype(np.int64)] = True
        if not mask.any() or k <= 0:
            return []
        normalise = NORMALISERS[cfg.normalisation]
        korean_query = self.is_korean(text)

        # per-document route: lexical weight and which encoder's dense score applies
        if korean_query:
            w_lex = np.full(self.n_, cfg.lexical_weight("ko"))
        else:
            w_lex = np.where(self.korean_, cfg.lexical_weight("en-ko"), cfg.lexical_weight("en-en"))
        encoder_of = np.full(self.n_, "", dtype=object)
        if cfg.encoders:
            multi = cfg.dense_multi or cfg.dense_en
            if korean_query or cfg.dense_en is None:
                encoder_of[:] = multi
            else:
                encoder_of[:] = np.where(self.korean_, multi, cfg.dense_en)

        lexical_raw = np.zeros(self.n_, dtype=np.float32)
        lexical_z = np.zeros(self.n_)
        if self.bm25_ is not None:
            lexical_raw = self.bm25_.score_weighted(self.query_terms(text))
            lexical_z = normalise(lexical_raw, mask)
        dense_raw = np.full(self.n_, np.nan, dtype=np.float32)
        dense_z = np.zeros(self.n_)
        for name in dict.fromkeys(encoder_of[mask]):
            if not name:
                continue
            routed = mask & (encoder_of == name)
            encoded = np.zeros(self.n_, dtype=bool)
            encoded[self.dense_[name][0]] = True
            # all the documents the encoder scored give its statistics, not only the routed ones: on a
            # mixed-language corpus a route's group can be tiny
            scores = self._dense_scores(name, text, mask & encoded)
            dense_raw[routed] = scores[routed]
            dense_z[routed] = normalise(scores, mask & encoded)[routed]
        has_dense = encoder_of != ""
        w_dense = np.where(has_dense, 1.0 - w_lex, 0.0)
        w_lex_eff = np.where(has_dense, w_lex, 1.0 if self.bm25_ is not None else 0.0)
        fused = w_lex_eff * lexical_z + w_dense * dense_z
        fused[~mask] = -np.inf

        positions = np.flatnonzero(mask if within is None else mask & np.asarray(within, dtype=bool))
        take = min(k, positions.size)
        order = positions[np.lexsort((positions, -fused[positions]))][:take]
        route_names = {True: "ko", False: "en"}
        results = []
        for pos in order:
            doc_route = "ko" if korean_query else ("en-ko" if self.korean_[pos] else "en-en")
            results.append(
                Scored(
                    position=int(pos),
                    score=float(fused[pos]),
                    components={
                        "route": doc_route,
                        "query_language": route_names[korean_query],
                        "lexical": float(lexical_raw[pos]),
                        "lexical_norm": float(lexical_z[pos]),
                        "lexical_weight": float(w_lex_eff[pos]),
                        "dense": None if np.isnan(dense_raw[pos]) else float(dense_raw[pos]),
                        "dense_norm": float(dense_z[pos]),
                        "dense_weight": float(w_dense[pos]),
                        "encoder": encoder_of[pos] or None,
                    },
                )
            )
        return results

    # ------------------------------------------------------------------ persistence
    def save(self, directory: Path) -> dict[str, Any]:
        entry: dict[str, Any] = {"pipeline": self.config.to_dict(), "count": self.n_}
        np.save(directory / "korean.npy", self.korean_, allow_pickle=False)
        if self.bm25_ is not None:
            entry["bm25"] = self.bm25_.save(directory)
        entry["dense"] = {}
        for name, (rows, index) in self.dense_.items():
            sub = directory / f"dense-{name}"
            sub.mkdir()
            np.save(sub / "rows.npy", rows, allow_pickle=False)
            entry["dense"][name] = {**index.save(sub), "dir": sub.name, "rows": int(rows.size)}
        if self.translator_ is not None:
            entry["translate"] = self.translator_.save(directory)
        return entry

    @classmethod
    def load(cls, directory: Path, entry: dict[str, Any], encoders: Mapping[str, Encoder]) -> HybridRetriever:
        config = PipelineConfig.from_dict(entry["pipeline"])
        model = cls(config, encoders)
        model.n_ = int(entry["count"])
        model.korean_ = np.load(directory / "korean.npy", allow_pickle=False)
        model.bm25_ = BM25.load(directory, entry["bm25"]) if "bm25" in entry else None
        model.dense_ = {}
        for name, sub_entry in entry.get("dense", {}).items():
            sub = directory / sub_entry["dir"]
            rows = np.load(sub / "rows.npy", allow_pickle=False)
            model.dense_[name] = (rows, index_class(sub_entry["backend"]).load(sub, sub_entry))
        model.translator_ = TermTranslator.load(directory, entry["translate"]) if "translate" in entry else None
        return model
