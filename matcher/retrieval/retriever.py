"""The hybrid retriever: a lexical channel (BM25 over language-aware tokens, English queries bridged
to Korean documents by term translation) and dense channels (one encoder for English × English, a
multilingual one for every other pair), fused per query by normalised scores with weights per route.

A channel with an exact index (``exact``, ``flat``) scores the whole (filtered) corpus, so its
normalisation statistics are those of the full score distribution. A channel with an approximate index
(``hnsw``, ``ivf``; ``auto`` above ``index.factory.AUTO_EXACT_LIMIT`` vectors) scores exactly, per query:

- its ANN top ``candidates`` (the filter applied inside the search by a FAISS ID selector);
- a fixed sample of its documents (``sample.StatsSample``: ``sample_size`` = 2,048 by default, kept at fit,
  saved with the index), whose scores give the statistics (mean and standard deviation for ``zscore``; for
  ``minmax`` the lowest and highest of everything scored) — those of the sample's allowed documents, or of
  the whole sample when fewer than ``MIN_SAMPLE_ALLOWED`` of them are allowed;
- the lexical channel's top ``candidates`` and the ``within`` rows (up to ``exact_rows`` of them), from the
  index's stored vectors: a document BM25 ranks high, or one match's score table compares across texts,
  gets its true dense score, not an estimate;
- every allowed row when a filter leaves at most ``exact_rows`` (``EXACT_ROWS_LIMIT``) of them: filtered
  searches over a small set stay exact.

Any other allowed document gets the mean of the sample scores below the last candidate's score
(``fusion.ChannelStats.fill``) — measured against the cut-off itself in ``docs/quality.md``. With a sample as
large as the channel every document is scored and fusion equals exact fusion. ``rrf`` needs ranks, which a
sample does not give: an approximate channel there ranks its ANN candidates alone (the rest get 0, where
exact RRF gives them less than ``1 / (60 + candidates)``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from matcher.encoders.base import Encoder
from matcher.errors import ConfigError
from matcher.index.base import VectorIndex
from matcher.index.factory import choose_backend, create_index, index_class
from matcher.lru import LRU
from matcher.retrieval.bm25 import BM25
from matcher.retrieval.config import PipelineConfig
from matcher.retrieval.fitinputs import DenseVectors, DocumentEmbeddings, DocumentTokens
from matcher.retrieval.fused import (
    Channel,
    FusedQuery,
    RouteClass,
    Scored,
    Table,
    fused_scores,
    sorted_unique,
    top_candidates,
    top_positive,
)
from matcher.retrieval.fusion import NORMALISERS, STAT_NORMALISERS, ChannelStats, describe, zscore_reference
from matcher.retrieval.querycache import QUERY_TERMS_CACHE_SIZE, QueryVectorCache, default_query_cache
from matcher.retrieval.sample import DEFAULT_SAMPLE_SIZE, StatsSample, sample_rows
from matcher.retrieval.translate import TermTranslator, content_words, korean_vocabulary
from matcher.text.lang import hangul_share
from matcher.text.tokenize import Analyzer

#: a filter leaving at most this many rows of an approximate channel is scored exactly: 4.3 ms at 20,000 rows of
#: 512 floats (by index, one thread), where HNSW restricted to them recalls 0.93–0.96 of the exact top 10; above
#: it HNSW recalls ≥ 0.96 in 1.4 ms and exact scoring costs 6.7 ms and more (bench/README.md)
EXACT_ROWS_LIMIT = 20_000
#: fewer allowed documents than this in the sample: the whole sample gives the statistics
MIN_SAMPLE_ALLOWED = 256


class _Routes(NamedTuple):
    """How every document is scored for queries of one language (:meth:`HybridRetriever._routes_of`)."""

    names: list[str]
    route: np.ndarray
    encoded: list[np.ndarray]
    w_lex_eff: np.ndarray
    w_dense: np.ndarray
    routed: list[np.ndarray]  # routed[j]: route == j
    classes: list[RouteClass]


class _DenseScores(NamedTuple):
    """One dense channel's scores of a query (:meth:`HybridRetriever._dense_scores`): raw scores by position (NaN
    = not scored); for sampled statistics the positions scored, the sample's scores they come
    from and the ANN candidates' scores (else ``None``)."""

    raw: np.ndarray
    known: np.ndarray | None = None  # (some may repeat)
    sample: np.ndarray | None = None
    candidates: np.ndarray | None = None


class HybridRetriever:
    """Fit on document texts; search with a query text, optional position filter and top-k.

    Other modules use the public face only: :meth:`search`, :meth:`search_pool`, :meth:`prepare`,
    :meth:`query_terms`, :meth:`query_vectors`, :meth:`lexical_scores`, :meth:`lexical_bound`, :meth:`term_bounds`,
    :meth:`document_vectors`, :meth:`dense_rows`, :meth:`encoder`, :meth:`take_tokens` and the read-only
    ``config``, ``encoders``, ``analyzer``, ``primary_encoder``, ``document_count``, ``translates_queries``;
    fitting in steps (``retrieval/fitinputs.py``): :meth:`tokenize`, :meth:`embed` (with
    :meth:`document_rows`, :meth:`translation_vocabulary`), :meth:`fit_from`.
    The fitted state (``n_``, ``korean_``, ``bm25_``, ``dense_``, ``samples_``, ``translator_``, ``tokens_``) is
    this class's own: it is written by :meth:`fit_from` and :meth:`load` and read here alone.

    ``backend`` names the dense channels' vector index (``index.factory``); ``sample_size`` the documents an
    approximate channel samples for its statistics; ``exact_rows`` the largest filtered set an approximate
    channel scores exactly (module docstring).
    """

    def __init__(self, config: PipelineConfig, encoders: Mapping[str, Encoder], backend: str = "auto", *,
                 query_cache: QueryVectorCache | None = None, sample_size: int = DEFAULT_SAMPLE_SIZE,
                 exact_rows: int = EXACT_ROWS_LIMIT) -> None:
        missing = [e for e in config.encoders if e not in encoders]
        if missing:
            raise ConfigError(f"pipeline {config.name!r} needs encoder(s) {missing}; loaded: {sorted(encoders)}")
        self.config = config
        self._encoders = dict(encoders)
        self.backend = backend
        self.sample_size = int(sample_size)
        self.exact_rows = int(exact_rows)
        self._analyzer = Analyzer(config.analyzer)
        #: query vectors by (encoder key, text): shared by every retriever of the process unless given
        self.query_cache = query_cache if query_cache is not None else default_query_cache()
        #: BM25 query terms by text (they depend on this retriever's analyzer and translator)
        self._terms_cache: LRU[str, dict[str, float]] = LRU(QUERY_TERMS_CACHE_SIZE)
        self.tokens_: list[list[str]] | None = None  # analysed documents, kept by fit(keep_tokens=True)
        self.samples_: dict[str, StatsSample] = {}  # approximate dense channels' statistics samples
        self._routes: dict[bool, _Routes] = {}  # by query language: made on first use (they never change)
        self._korean_memo: tuple[tuple[str, ...], np.ndarray] | None = None  # the last korean_documents call

    # ------------------------------------------------------------------ public state
    @property
    def encoders(self) -> Mapping[str, Encoder]:
        """The encoders of the pipeline's dense channels by name (read-only)."""
        return MappingProxyType(self._encoders)

    def encoder(self, name: str) -> Encoder:
        """The encoder of dense channel ``name``."""
        if name not in self._encoders:
            raise ConfigError(f"no encoder {name!r} in pipeline {self.config.name!r}; loaded: {sorted(self._encoders)}")
        return self._encoders[name]

    @property
    def primary_encoder(self) -> str | None:
        """The encoder every query language is routed to (the multilingual one, else the English one);
        ``None`` for a lexical-only pipeline."""
        return self.config.dense_multi or self.config.dense_en

    @property
    def analyzer(self) -> Analyzer:
        """The tokenizer of the lexical channel (language-aware; also used for evidence terms)."""
        return self._analyzer

    @property
    def document_count(self) -> int:
        """How many documents were fitted (positions are ``0 .. document_count - 1``)."""
        return self.n_

    @property
    def translates_queries(self) -> bool:
        """Whether English queries get translated Korean BM25 terms (a term translator was fitted)."""
        return self.translator_ is not None

    def dense_rows(self, name: str) -> np.ndarray | None:
        """The positions dense channel ``name`` embeds (the English-only encoder skips Korean documents),
        or ``None`` when the pipeline has no such channel."""
        entry = self.dense_.get(name)
        return None if entry is None else entry[0]

    def take_tokens(self) -> list[list[str]] | None:
        """The analysed tokens :meth:`fit` kept with ``keep_tokens`` (``None`` if none), forgotten once taken."""
        tokens, self.tokens_ = self.tokens_, None
        return tokens

    # ------------------------------------------------------------------ fitting
    def korean_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Mask of the texts that count as Korean (Hangul share ≥ the pipeline's ``korean_threshold``).

        The last texts' mask is kept: a build asks for the same documents' mask five times (each dense
        channel's rows while embedding and fitting, the translator, the fit itself), 0.45 s of regular
        expressions over the real corpus's 1,824 abstracts, most of it while Kiwi's consumer wants the GIL."""
        key = tuple(texts)
        last = self._korean_memo
        if last is not None and last[0] == key:
            return last[1].copy()
        threshold = self.config.korean_threshold
        mask = np.array([hangul_share(t) >= threshold for t in key], dtype=bool)
        self._korean_memo = (key, mask)
        return mask.copy()

    def document_rows(self, texts: Sequence[str], encoder: str) -> np.ndarray:
        """The positions among ``texts`` that dense channel ``encoder`` embeds: all of them for the
        multilingual encoder, the non-Korean ones for the English-only encoder."""
        cfg = self.config
        if encoder not in cfg.encoders:
            raise ConfigError(f"no encoder {encoder!r} in pipeline {cfg.name!r}; its encoders: {list(cfg.encoders)}")
        if encoder == cfg.dense_multi or cfg.dense_multi is None:
            return np.arange(len(texts), dtype=np.int64)
        return np.flatnonzero(~self.korean_documents(texts)).astype(np.int64)

    def translation_vocabulary(self, texts: Sequence[str], tokens: DocumentTokens) -> list[str]:
        """The Korean nouns the term translator is fitted on (empty when the pipeline gets no translator:
        no lexical channel, translation off, no multilingual encoder or no Korean document)."""
        cfg = self.config
        if not (cfg.lexical and cfg.translate and cfg.dense_multi) or not self.korean_documents(texts).any():
            return []
        return list(tokens.vocabulary)

    def tokenize(self, texts: Sequence[str], *, progress: bool = False) -> DocumentTokens:
        """Step 1 of :meth:`fit`: the lexical channel's tokens of every text and the Korean nouns among them."""
        if not self.config.lexical:
            return DocumentTokens(None, [])
        nouns: set[str] = set()
        tokens = self._analyzer.analyze_many(texts, progress=progress, nouns=nouns)
        return DocumentTokens(tokens, korean_vocabulary(nouns))

    def embed(self, texts: Sequence[str], tokens: DocumentTokens, *, progress: bool = False) -> DocumentEmbeddings:
        """Step 2 of :meth:`fit`: each dense channel's document vectors and the translator's vocabulary vectors."""
        dense = {}
        for name in self.config.encoders:
            rows = self.document_rows(texts, name)
            vectors = self._encoders[name].encode_documents([texts[i] for i in rows], progress=progress)
            dense[name] = DenseVectors(rows, vectors)
        vocabulary = self.translation_vocabulary(texts, tokens)
        vocab_vectors = None
        if vocabulary:
            assert self.config.dense_multi is not None  # translation_vocabulary is empty otherwise
            vocab_vectors = self._encoders[self.config.dense_multi].encode_documents(vocabulary)
        return DocumentEmbeddings(dense, vocab_vectors)

    def fit(self, texts: Sequence[str], *, progress: bool = False, keep_tokens: bool = False) -> HybridRetriever:
        """Index ``texts``: :meth:`tokenize`, :meth:`embed`, then :meth:`fit_from`; with ``keep_tokens``
        the analysed tokens stay in ``tokens_`` (for grouping)."""
        tokens = self.tokenize(texts, progress=progress)
        embeddings = self.embed(texts, tokens, progress=progress)
        return self.fit_from(texts, tokens, embeddings, keep_tokens=keep_tokens)

    def fit_from(self, texts: Sequence[str], tokens: DocumentTokens, embeddings: DocumentEmbeddings, *,
                 keep_tokens: bool = False) -> HybridRetriever:
        """Step 3 of :meth:`fit`: index ``texts`` from tokens and vectors computed ahead (by :meth:`tokenize`
        and :meth:`embed`, or read back from a staged build). Nothing is tokenized; nothing is embedded
        unless ``embeddings.vocabulary`` is ``None`` where a translator is fitted."""
        cfg = self.config
        self._terms_cache.clear()  # terms depend on the translator fitted below
        self._routes = {}
        self.n_ = len(texts)
        self.tokens_ = None
        self.korean_ = self.korean_documents(texts)
        self.bm25_: BM25 | None = None
        if cfg.lexical:
            if tokens.tokens is None or len(tokens.tokens) != self.n_:
                got = "none" if tokens.tokens is None else len(tokens.tokens)
                raise ConfigError(f"pipeline {cfg.name!r} has a lexical channel: it needs the tokens of all "
                                  f"{self.n_} documents, got {got}")
            self.bm25_ = BM25(cfg.k1, cfg.b).fit(tokens.tokens)
            if keep_tokens:
                self.tokens_ = tokens.tokens
        self.dense_: dict[str, tuple[np.ndarray, VectorIndex]] = {}
        self.samples_ = {}
        for name in cfg.encoders:
            dense = embeddings.dense.get(name)
            if dense is None:
                raise ConfigError(f"pipeline {cfg.name!r}: no document vectors for encoder {name!r}; "
                                  f"given: {sorted(embeddings.dense)}")
            rows = self.document_rows(texts, name)
            dimension = self._encoders[name].dimension
            if not np.array_equal(dense.rows, rows) or dense.vectors.shape != (len(rows), dimension):
                raise ConfigError(f"encoder {name!r}: vectors of shape {dense.vectors.shape} for rows "
                                  f"{dense.rows.size}; the documents need ({len(rows)}, {dimension}) for their rows")
            self._fit_dense(name, rows, dense.vectors, choose_backend(self.backend, len(rows)))
        self.translator_: TermTranslator | None = None
        if cfg.lexical and cfg.translate and cfg.dense_multi and self.korean_.any():
            self.translator_ = TermTranslator(cfg.translate_topk, cfg.translate_min_cos).fit(
                self.translation_vocabulary(texts, tokens), self._encoders[cfg.dense_multi],
                vectors=embeddings.vocabulary,
            )
        return self

    def _fit_dense(self, name: str, rows: np.ndarray, vectors: np.ndarray, backend: str, **params: Any) -> None:
        """Channel ``name``'s vector index over ``vectors`` (row i = document ``rows[i]``) and, when the index
        is approximate, its statistics sample."""
        index = create_index(backend, vectors.shape[1], len(rows), **params).fit(vectors)
        self.dense_[name] = (rows, index)
        self.samples_.pop(name, None)
        if not index.exact:
            self.samples_[name] = StatsSample.draw(rows, vectors, self.sample_size)

    def reindex_dense(self, backend: str, **params: Any) -> HybridRetriever:
        """Refit every dense channel's vector index as ``backend`` (with index ``params``, e.g. ``m``,
        ``ef_search`` for ``hnsw``) from the vectors its index stores: nothing is encoded. Turns an exact
        index into an approximate one (sample drawn) or back."""
        for name, (rows, index) in list(self.dense_.items()):
            vectors = index.vectors(np.arange(len(index), dtype=np.int64))
            self._fit_dense(name, rows, vectors, choose_backend(backend, len(rows)), **params)
        return self

    def document_vectors(self) -> np.ndarray | None:
        """Every document's vector from the multilingual encoder (row = position), if it keeps them flat:
        a read-only view of the index's own matrix (its rows are the positions in order; a copy was 200 MB
        and 140 ms a bundles request at 100,000 documents)."""
        name = self.primary_encoder
        if not name or name not in self.dense_:
            return None
        rows, index = self.dense_[name]
        matrix = index.matrix()
        if matrix is None or rows.size != self.n_:
            return None
        if not np.array_equal(rows, np.arange(self.n_)):
            return matrix[np.argsort(rows)]
        view = matrix.view()
        view.flags.writeable = False
        return view

    # ------------------------------------------------------------------ querying
    def is_korean(self, text: str) -> bool:
        return hangul_share(text) >= self.config.korean_threshold

    def query_vectors(self, name: str, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of ``texts`` by encoder ``name``, through the query-vector cache."""
        return self.query_cache.vectors(self._encoders[name], texts)

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
        terms: Counter[str] = Counter(self._analyzer.analyze(text))
        weights = {t: float(c) for t, c in terms.items()}
        if not korean and self.translator_ is not None and self.config.dense_multi:
            name = self.config.dense_multi
            translated = self.translator_.translate(content_words(text), self._encoders[name],
                                                    encode=lambda words: self.query_vectors(name, words))
            for options in translated.values():
                for term, cos in options:
                    weights[term] = weights.get(term, 0.0) + cos
                    if self.config.translate_bigrams and self.config.analyzer.hangul_bigrams:
                        grams = self._analyzer._bigrams(term)
                        for g in grams:
                            weights[g] = weights.get(g, 0.0) + cos / len(grams)
        return weights

    def lexical_bound(self, text: str) -> float:
        """The highest BM25 score a document could reach for what ``text`` asks for: Σ count·idf·(k1+1)
        over its analysed terms (a term's BM25 weight in a document is idf·tf·(k1+1)/(tf+norm), always
        below idf·(k1+1)); the denominator of the calibration feature ``lexical_frac``.

        Left out: terms added by translating an English query (so an English query's bound is the same on
        an English-only and on a mixed corpus); request phrasing (``calibration.REQUEST_WORDS``: 필요합니다,
        "we are looking for", ...); Hangul bigrams absent from the corpus (endings such as 합니/니다). A word
        absent from the corpus counts with the idf of document frequency 0, so a query about something
        the corpus lacks has a bound no document approaches. 0.0 without a lexical channel.
        """
        from matcher.retrieval.calibration import request_terms

        if self.bm25_ is None:
            return 0.0
        skip = request_terms(self._analyzer)
        total = 0.0
        for term, bound, known in self.term_bounds(text):
            if term in skip or (not known and term.startswith("#")):
                continue
            total += bound
        return float(total)

    def term_bounds(self, text: str) -> list[tuple[str, float, bool]]:
        """Each distinct analysed term of ``text`` (in order of first occurrence) with the highest BM25 score
        it can add to a document, count·idf·(k1+1) (idf of document frequency 0 when the corpus lacks the
        term), and whether the corpus holds it. Empty without a lexical channel."""
        if self.bm25_ is None:
            return []
        bm25 = self.bm25_
        n_docs = len(bm25)
        indptr = bm25.weights_t_.indptr  # row t of the term × document matrix: the documents holding t
        out = []
        for term, count in Counter(self._analyzer.analyze(text)).items():
            col = bm25.vocab_.get(term)
            df = 0 if col is None else int(indptr[col + 1] - indptr[col])
            out.append((term, count * float(np.log1p((n_docs - df + 0.5) / (df + 0.5))) * (bm25.k1 + 1.0),
                        col is not None))
        return out

    def lexical_scores(self, text: str) -> np.ndarray | None:
        """Raw BM25 scores of every document (by position) for ``text``'s weighted query terms
        (:meth:`query_terms`), or ``None`` without a lexical channel."""
        if self.bm25_ is None:
            return None
        return self.bm25_.score_weighted(self.query_terms(text))

    def _dense_scores(self, name: str, text: str, mask: np.ndarray, extra: np.ndarray) -> _DenseScores:
        """Channel ``name``'s raw scores by position (NaN = not scored) over the documents in ``mask`` and, when
        they are not the full distribution's, what :meth:`_sampled_stats` normalises them with.
        ``extra``: positions an approximate channel scores exactly besides its candidates (module docstring)."""
        rows, index = self.dense_[name]
        out = np.full(self.n_, np.nan, dtype=np.float32)
        q = self.query_vectors(name, [text])[0]
        if index.exact:
            matrix = index.matrix()
            out[rows] = matrix @ q if matrix is not None else index.vectors(np.arange(rows.size)) @ q
            return _DenseScores(out)
        in_mask = mask if rows.size == self.n_ else mask[rows]  # every document: row i is position i
        filtered = int(np.count_nonzero(in_mask)) < rows.size
        local = np.flatnonzero(in_mask) if filtered else None
        if local is not None and local.size <= self.exact_rows:  # a small filtered set: exactly, from stored vectors
            out[rows[local]] = index.scores(q, local)
            return _DenseScores(out)
        scores, found = index.search(q[None, :], self.config.candidates, allowed=local)
        keep = found[0] >= 0
        candidates = scores[0][keep]
        found_rows = rows[found[0][keep]]
        out[found_rows] = candidates
        sample = self.samples_.get(name)
        if sample is None or not len(sample) or self.config.normalisation not in STAT_NORMALISERS:
            return _DenseScores(out)  # candidates alone: their ranks (rrf), the floor for the rest
        sample_scores = sample.scores(q)
        sampled_rows = rows[sample.rows]
        out[sampled_rows] = sample_scores
        extra_local = self._local_rows(rows, extra)
        extra_rows = rows[extra_local]
        if extra_local.size:
            out[extra_rows] = index.scores(q, extra_local)
        allowed = mask[sampled_rows]
        values = sample_scores[allowed] if allowed.sum() >= MIN_SAMPLE_ALLOWED else sample_scores
        known = np.concatenate([found_rows, sampled_rows, extra_rows])  # repeats do no harm: not made unique
        return _DenseScores(out, known, values, candidates)

    @staticmethod
    def _sampled_stats(scored: np.ndarray, sample: np.ndarray, candidates: np.ndarray) -> ChannelStats:
        """Statistics of an approximate channel: mean and spread of the ``sample`` scores, lowest and highest
        of every allowed document ``scored`` (NaN = unscored), and the estimate an unscored document gets:
        the mean of the sample scores below the last candidate's (an unscored document ranks below it)."""
        stats = describe(sample)
        known = scored[~np.isnan(scored)]
        low, high = (float(known.min()), float(known.max())) if known.size else (stats.low, stats.high)
        cutoff = float(candidates.min()) if candidates.size else stats.low
        below = sample[sample < cutoff]
        fill = float(below.astype(np.float64).mean()) if below.size else cutoff
        return ChannelStats(mean=stats.mean, std=stats.std, low=low, high=high, fill=fill)

    def _local_rows(self, rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Indexes into ``rows`` (ascending positions a channel embeds) of those ``positions`` it embeds."""
        if rows.size == self.n_:  # every document: row i is position i
            return positions
        local = np.searchsorted(rows, positions)
        hit = local < rows.size
        hit[hit] = rows[local[hit]] == positions[hit]
        return local[hit]

    def _exact_extras(self, lexical: np.ndarray | None, mask: np.ndarray, within: np.ndarray | None, *,
                      everything: bool = False) -> np.ndarray:
        """Positions an approximate dense channel scores exactly besides its candidates and sample: the
        lexical channel's top ``candidates`` in ``mask`` and the ``within`` rows in ``mask`` (up to
        ``exact_rows`` of them). Empty when no channel is approximate. ``everything``: ``mask`` allows all."""
        if not self.samples_:
            return np.zeros(0, dtype=np.int64)
        parts = [np.zeros(0, dtype=np.int64)]
        if lexical is not None:
            parts.append(top_positive(lexical, None if everything else mask, self.config.candidates))
        if within is not None:
            chosen = np.flatnonzero(mask & np.asarray(within, dtype=bool))
            if chosen.size <= self.exact_rows:
                parts.append(chosen)
        return sorted_unique(np.concatenate(parts))

    def _exact_extras_plain(self, lexical: np.ndarray | None, mask: np.ndarray,
                            within: np.ndarray | None) -> np.ndarray:
        """:meth:`_exact_extras` over the listed lexical hits (the reference of :meth:`_fuse_plain`)."""
        if not self.samples_:
            return np.zeros(0, dtype=np.int64)
        parts = [np.zeros(0, dtype=np.int64)]
        if lexical is not None:
            hits = np.flatnonzero(mask & (lexical > 0))
            parts.append(hits[top_candidates(lexical[hits], self.config.candidates)])
        if within is not None:
            chosen = np.flatnonzero(mask & np.asarray(within, dtype=bool))
            if chosen.size <= self.exact_rows:
                parts.append(chosen)
        return np.unique(np.concatenate(parts))

    def _routes_of(self, korean_query: bool) -> _Routes:
        """Per-document routing of a query in this language (the same for every such query, so made once):
        the dense encoders' ``names``; ``route[i]`` = index into ``names`` of document i's encoder, -1 for none
        (small ints, not an object array of names: comparing strings per document cost tens of ms a query at
        100,000 documents); ``encoded[j]`` = the documents encoder j embeds; the lexical and dense weights."""
        cached = self._routes.get(korean_query)
        if cached is not None:
            return cached
        cfg = self.config
        if korean_query:
            w_lex = np.full(self.n_, cfg.lexical_weight("ko"))
        else:
            w_lex = np.where(self.korean_, cfg.lexical_weight("en-ko"), cfg.lexical_weight("en-en"))
        names: list[str] = []
        route = np.full(self.n_, -1, dtype=np.int8)
        if cfg.encoders:
            multi = cfg.dense_multi or cfg.dense_en
            assert multi is not None
            names = [multi]
            route[:] = 0
            if not korean_query and cfg.dense_en is not None and cfg.dense_en != multi:
                names.append(cfg.dense_en)
                route[~self.korean_] = 1
        encoded = []
        for name in names:
            rows = np.zeros(self.n_, dtype=bool)
            rows[self.dense_[name][0]] = True
            encoded.append(rows)
        has_dense = route >= 0
        w_dense = np.where(has_dense, 1.0 - w_lex, 0.0)
        w_lex_eff = np.where(has_dense, w_lex, 1.0 if self.bm25_ is not None else 0.0)
        routed = [route == j for j in range(len(names))]
        classes = self._route_classes(route, routed, encoded, w_lex_eff, w_dense)
        for array in (route, w_dense, w_lex_eff, *encoded, *routed, *(c.members for c in classes)):
            array.flags.writeable = False
        routes = _Routes(names, route, encoded, w_lex_eff, w_dense, routed, classes)
        self._routes[korean_query] = routes
        return routes

    @staticmethod
    def _route_classes(route: np.ndarray, routed: list[np.ndarray], encoded: list[np.ndarray], w_lex_eff: np.ndarray,
                       w_dense: np.ndarray) -> list[RouteClass]:
        """The documents grouped by what their fused score is made of where no dense channel scored them:
        route, whether the route's encoder embeds them, weights (``fused.RouteClass``; one to three groups)."""
        scoped = np.zeros(route.size, dtype=bool)
        for j, rows in enumerate(encoded):
            scoped |= routed[j] & rows
        keys = np.column_stack([route.astype(np.float64), scoped, w_lex_eff, w_dense])
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        return [RouteClass(np.flatnonzero(inverse == c), int(key[0]), bool(key[1]), float(key[2]), float(key[3]))
                for c, key in enumerate(unique)]

    def _mask(self, allowed: np.ndarray | None) -> np.ndarray:
        """``allowed`` (boolean mask or positions; ``None``: every document) as a boolean mask of its own."""
        if allowed is None:
            return np.ones(self.n_, dtype=bool)
        allowed = np.asarray(allowed)
        if allowed.dtype == bool:
            return allowed.copy()
        mask = np.zeros(self.n_, dtype=bool)
        mask[allowed.astype(np.int64)] = True
        return mask

    def search(self, text: str, k: int = 10, *, allowed: np.ndarray | None = None,
               within: np.ndarray | None = None) -> list[Scored]:
        """Top ``k`` documents for ``text``; ``allowed`` (boolean mask or positions) filters before ranking.

        ``within`` (a boolean mask) restricts the returned documents further without changing the
        normalisation statistics, which stay those of ``allowed``: scores of a few chosen candidates that
        are comparable with the scores of a search over everything allowed."""
        mask = self._mask(allowed)
        if not mask.any() or k <= 0:
            return []
        query = self._fuse(text, mask, within)
        return query.table(query.top(k, within)).hits()

    def search_pool(self, texts: Sequence[str], k: int, *,
                    allowed: np.ndarray | None = None) -> tuple[list[int], list[list[Scored]]]:
        """The pool of ``texts`` — the union of each text's top ``k`` over ``allowed`` (ascending positions) —
        and each text's hits on the whole pool (every pooled document, best first).

        The same answer as ``search(text, k, allowed=allowed)`` for each text, then ``search(text, len(pool),
        allowed=allowed, within=pool)`` for each text, with each text's work over the whole corpus done once:
        the second pass only scores the pooled documents' dense vectors exactly (as ``within`` rows are). Each
        text's per-document arrays (≈ 40 bytes a document) are held until the pool is scored."""
        mask = self._mask(allowed)
        if not texts or not mask.any() or k <= 0:
            return [], [[] for _ in texts]
        queries = [self._fuse(text, mask, None) for text in texts]
        pool = np.unique(np.concatenate([q.top(k) for q in queries]))
        return pool.tolist(), [self._rescored(q, pool).hits() for q in queries]

    def _fuse(self, text: str, mask: np.ndarray, within: np.ndarray | None) -> FusedQuery:
        """Every document's fused score for ``text`` over ``mask`` and what its parts are computed from: the
        work of :meth:`search` before its top k. ``within`` rows get exact dense scores (module docstring).
        The same scores, bit for bit, as :meth:`_fuse_plain`, in fewer passes over the documents
        (``fused.py``)."""
        cfg = self.config
        korean_query = self.is_korean(text)
        routes = self._routes_of(korean_query)
        everything = bool(mask.all())
        lexical_raw = self.lexical_scores(text)
        if lexical_raw is None:
            lexical_z = np.zeros(self.n_)
        else:
            lexical_z = NORMALISERS[cfg.normalisation](lexical_raw, mask)
        extra = self._exact_extras(lexical_raw, mask, within, everything=everything)
        channels = []
        for j, name in enumerate(routes.names):
            if not (mask & routes.routed[j]).any():
                continue
            # all the documents the encoder scored give its statistics, not only the routed ones: on a
            # mixed-language corpus a route's group can be tiny
            scope = routes.encoded[j] if everything else mask & routes.encoded[j]
            channels.append(self._channel(j, name, text, scope, extra))
        fused = fused_scores(routes.classes, routes.w_lex_eff, routes.w_dense, routes.route, lexical_z, channels,
                             None if everything else mask)
        if lexical_raw is None:
            lexical_raw = np.zeros(self.n_, dtype=np.float32)
        return FusedQuery(text, korean_query, routes.names, self.korean_, fused, lexical_raw, lexical_z,
                          routes.w_lex_eff, routes.w_dense, routes.route, mask, int(np.count_nonzero(mask)), extra,
                          channels)

    def _channel(self, route: int, name: str, text: str, scope: np.ndarray, extra: np.ndarray) -> Channel:
        """Dense channel ``name``'s part of a query over ``scope``: every document's normalised score, or
        (sampled statistics) what to compute them from where asked."""
        normalisation = self.config.normalisation
        dense = self._dense_scores(name, text, scope, extra)
        if dense.known is None:
            return Channel(route, name, normalisation, dense.raw, scope, z=NORMALISERS[normalisation](dense.raw, scope))
        assert dense.sample is not None and dense.candidates is not None
        known = dense.known[scope[dense.known]]  # the allowed documents scored: min and max are exact on them
        stats = self._sampled_stats(dense.raw[known], dense.sample, dense.candidates)
        return Channel(route, name, normalisation, dense.raw, scope, stats=stats, known=dense.known)

    def _fuse_plain(self, text: str, mask: np.ndarray, within: np.ndarray | None) -> Table:
        """:meth:`_fuse` as whole arrays over every document, each part filled in and the fused scores summed
        over all of them (``positions`` = every position): the reference the fast path is tested against."""
        cfg = self.config
        normalise = zscore_reference if cfg.normalisation == "zscore" else NORMALISERS[cfg.normalisation]
        korean_query = self.is_korean(text)
        names, route, encoded, w_lex_eff, w_dense = self._routes_of(korean_query)[:5]
        lexical_raw = np.zeros(self.n_, dtype=np.float32)
        lexical_z = np.zeros(self.n_)
        scores = self.lexical_scores(text)
        if scores is not None:
            lexical_raw = scores
            lexical_z = normalise(lexical_raw, mask)
        extra = self._exact_extras_plain(scores, mask, within)
        dense_raw = np.full(self.n_, np.nan, dtype=np.float32)
        dense_z = np.zeros(self.n_)
        for j, name in enumerate(names):
            routed = mask & (route == j)
            if not routed.any():
                continue
            scored = mask & encoded[j]
            dense = self._dense_scores(name, text, scored, extra)
            if dense.known is None:
                z = normalise(dense.raw, scored)
            else:
                assert dense.sample is not None and dense.candidates is not None
                stats = self._sampled_stats(dense.raw[scored], dense.sample, dense.candidates)
                z = STAT_NORMALISERS[cfg.normalisation](dense.raw, scored, stats)
            np.copyto(dense_raw, dense.raw, where=routed)
            np.copyto(dense_z, z, where=routed)
        fused = w_lex_eff * lexical_z + w_dense * dense_z
        fused[~mask] = -np.inf
        return Table(text, korean_query, names, np.arange(self.n_), self.korean_, fused, lexical_raw, lexical_z,
                     w_lex_eff, dense_raw, dense_z, w_dense, route)

    def _rescored(self, query: FusedQuery, positions: np.ndarray) -> Table:
        """``query`` at ``positions`` alone (ascending, allowed), their dense scores exact in every channel
        normalised with sampled statistics: what :meth:`_fuse` with ``within = positions`` gives them."""
        table = query.table(positions)
        if positions.size <= self.exact_rows:  # as _exact_extras takes ``within`` rows
            for channel in query.sampled:
                self._rescore_channel(query, channel, positions, table)
        return table.refused()

    def _rescore_channel(self, query: FusedQuery, channel: Channel, positions: np.ndarray, table: Table) -> None:
        """Channel ``channel``'s raw and normalised scores of ``positions`` (into ``table``), exact."""
        assert channel.stats is not None
        rows, index = self.dense_[channel.name]
        scope = channel.scope[positions]
        raw = channel.raw[positions]
        chosen = positions[scope]
        # scored in one batch with the query's other exact rows, as a search with ``within`` scores them: an
        # index scoring by a matrix product (IVF) may round a row differently in another batch
        batch = sorted_unique(np.concatenate([query.extra, chosen]))  # np.union1d's values
        batch = batch[channel.scope[batch]]
        scores = index.scores(self.query_vectors(channel.name, [query.text])[0], self._local_rows(rows, batch))
        exact = scores[np.searchsorted(batch, chosen)]
        raw[scope] = exact
        stats = channel.stats
        if self.config.normalisation == "minmax":  # the lowest and highest of every allowed document scored
            everything = channel.raw.copy()
            everything[chosen] = exact
            known = everything[channel.scope]
            known = known[~np.isnan(known)]
            if known.size:
                stats = dataclasses.replace(stats, low=float(known.min()), high=float(known.max()))
        routed = table.route == channel.route
        table.dense_raw[routed] = raw[routed]
        table.dense_z[routed] = STAT_NORMALISERS[self.config.normalisation](raw, scope, stats)[routed]

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
            if name in self.samples_:
                entry["dense"][name]["sample"] = self.samples_[name].save(sub)
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
            index = index_class(sub_entry["backend"]).load(sub, sub_entry)
            model.dense_[name] = (rows, index)
            if "sample" in sub_entry:
                model.samples_[name] = StatsSample.load(sub, sub_entry["sample"])
            elif not index.exact:  # saved before samples were kept: drawn as the fit would have
                picked = sample_rows(rows, model.sample_size)
                model.samples_[name] = StatsSample(picked, index.vectors(picked))
        model.translator_ = TermTranslator.load(directory, entry["translate"]) if "translate" in entry else None
        return model

