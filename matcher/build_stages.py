"""The stages of a build: **tokenize → embed → index**, the first two kept in the build's staging directory.

* :func:`tokenize`: the lexical channel's tokens of every technology's text and the Korean nouns among
  them (the term translator's vocabulary) → ``tokens.jsonl`` + ``tokens.json``. With a token cache
  (``matcher/retrieval/tokencache.py``, a table of the embedding-cache file) only texts not analysed
  before with the same analyzer settings and kiwipiepy are analysed; the vocabulary is rebuilt from
  every text's cached nouns, so the index is the same as with every text analysed.
* :func:`embed`: per encoder of the pipeline, the vectors of the documents its channel embeds →
  ``embeddings/<encoder>.npy`` (float32, one row per document in the order ``ids`` gives) +
  ``embeddings/<encoder>.json`` (encoder name and identity key, dimension, ids in row order, a digest of
  the texts, role ``document``); with a term translator also its vocabulary through the multilingual
  encoder → ``embeddings/<encoder>.vocabulary.npy`` + ``.json`` (role ``vocabulary``, a digest of the terms).
  It needs the tokenize stage's vocabulary, nothing else of it.
* :func:`index`: the retriever fitted from those two (``HybridRetriever.fit_from``: BM25, vector indexes,
  translator), nothing tokenized or embedded again. Its files are written into the version by the build.

A stage whose output is already in the staging directory for the same inputs (its description's input
key: analyzer settings, kiwipiepy version and texts for the tokens; encoder identity key, ids and texts
in row order for the vectors) is read back instead of computed, so an interrupted build resumes after
the last stage it finished, and a separate job can run :func:`embed` into the staging directory ahead
of the build (``matcher.build.stage_build``). The staging directory of a build is named by
:func:`build_key` (``matcher/store/staging.py``).

**Not kept in the version.** Once the version is published the staging directory is removed; the
manifest's ``stages`` lists what each stage produced (files, rows, encoder keys, whether read back) with
``"kept": false``. The vectors are already in the version's index files (``dense-<encoder>/``,
``translate_vectors.npy``) and, by text, in the embedding cache that the next build reads, so keeping
them would double a version's size for nothing a nightly build needs. A build that fails — also one whose
version fails its check — leaves the directory for its rerun.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from matcher.encoders.base import Encoder
from matcher.records import Technology
from matcher.retrieval.config import PipelineConfig
from matcher.retrieval.fitinputs import DenseVectors, DocumentEmbeddings, DocumentTokens
from matcher.retrieval.retriever import HybridRetriever
from matcher.retrieval.tokencache import AnalysedText, TokenCache, analyzer_key, kiwi_version
from matcher.retrieval.translate import korean_vocabulary
from matcher.store.staging import BuildStaging

T = TypeVar("T")

STAGES = ("tokenize", "embed", "index")
TOKENS = "tokens.jsonl"
TOKENS_INFO = "tokens.json"
EMBEDDINGS = "embeddings"
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class StageResult(Generic[T]):
    """A stage's output, what the version's manifest says of it, and how many items came from staging."""

    value: T
    outputs: dict[str, Any]
    reused: int = 0
    computed: int = 0


@dataclass
class _Totals:
    reused: int = 0
    computed: int = 0
    outputs: dict[str, Any] = field(default_factory=dict)


def _digest(parts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part.encode("utf-8")).digest())
    return "sha256:" + h.hexdigest()


def build_key(technologies: Sequence[Technology], pipeline: PipelineConfig, encoders: Mapping[str, Encoder]) -> str:
    """The name of a build's staging directory: a digest of the ids and texts in order, the pipeline
    and the identity keys of its encoders (the same build, interrupted and run again, finds it)."""
    payload = {
        "texts": _digest([f"{t.id}\t{t.text}" for t in technologies]),
        "pipeline": pipeline.to_dict(),
        "encoders": {name: encoders[name].identity.key for name in pipeline.encoders},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def encoder_file(name: str) -> str:
    """The file stem of encoder ``name``'s staged vectors (a model path gets a digest-suffixed slug)."""
    if _SAFE.fullmatch(name):
        return name
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[-40:] or "encoder"
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _analyse(texts: Sequence[str], retriever: HybridRetriever, cache: TokenCache | None,
             progress: bool) -> tuple[DocumentTokens, int]:
    """The tokens of ``texts`` and how many texts were analysed: with a ``cache`` only the texts it
    does not hold (written back), the vocabulary rebuilt from every text's nouns as
    :meth:`HybridRetriever.tokenize` builds it."""
    if cache is None:
        return retriever.tokenize(texts, progress=progress), len(texts)
    analyzer = analyzer_key(retriever.config.analyzer)
    known = cache.get_many(analyzer, texts)
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing:
        nouns: list[set[str]] = [set() for _ in missing]
        tokens = retriever.analyzer.analyze_many(missing, progress=progress, nouns_by_text=nouns)
        fresh = {t: AnalysedText(tok, sorted(n)) for t, tok, n in zip(missing, tokens, nouns, strict=True)}
        cache.put_many(analyzer, fresh)
        known.update(fresh)
    rows = [list(known[t].tokens) for t in texts]
    vocabulary = korean_vocabulary(n for t in dict.fromkeys(texts) for n in known[t].nouns)
    return DocumentTokens(rows, vocabulary), len(missing)


def tokenize(technologies: Sequence[Technology], retriever: HybridRetriever, staging: BuildStaging, *,
             progress: bool = False, cache: TokenCache | None = None) -> StageResult[DocumentTokens]:
    """Stage 1: the analysed texts, from staging when there for the same texts and analyzer; otherwise
    each text from the token ``cache`` when given and there, only the others analysed."""
    if not retriever.config.lexical:
        return StageResult(DocumentTokens(None, []), {"skipped": "the pipeline has no lexical channel"})
    texts = [t.text for t in technologies]
    key = hashlib.sha256(json.dumps({"analyzer": retriever.config.analyzer.to_dict(), "kiwipiepy": kiwi_version(),
                                     "texts": _digest(texts)}, sort_keys=True).encode()).hexdigest()
    info = staging.read_json(TOKENS_INFO)
    if info is not None and info.get("key") == key and info.get("documents") == len(texts) \
            and staging.size_is(TOKENS, info.get("bytes")):
        rows = staging.read_lines(TOKENS)
        if rows is not None and len(rows) == len(texts) and all(isinstance(r, list) for r in rows):
            outputs = {"file": TOKENS, "documents": len(rows), "vocabulary": len(info["vocabulary"]), "reused": True,
                       "computed": 0}
            return StageResult(DocumentTokens(rows, list(info["vocabulary"])), outputs, reused=len(rows))
    tokens, analysed = _analyse(texts, retriever, cache, progress)
    assert tokens.tokens is not None  # the pipeline has a lexical channel
    size = staging.write_lines(TOKENS, tokens.tokens)
    staging.write_json(TOKENS_INFO, {"key": key, "documents": len(texts), "bytes": size,
                                     "vocabulary": tokens.vocabulary})
    outputs = {"file": TOKENS, "documents": len(texts), "vocabulary": len(tokens.vocabulary), "reused": False,
               "computed": analysed, "cached": len(texts) - analysed}
    return StageResult(tokens, outputs, reused=len(texts) - analysed, computed=analysed)


def _vectors(staging: BuildStaging, stem: str, encoder: Encoder, describe: dict[str, Any],
             texts: list[str], progress: bool, totals: _Totals, label: str) -> np.ndarray:
    """``texts`` through ``encoder.encode_documents``, or the staged vectors described by ``describe``."""
    data, info_name = f"{EMBEDDINGS}/{stem}.npy", f"{EMBEDDINGS}/{stem}.json"
    shape = (len(texts), encoder.dimension)
    info = staging.read_json(info_name)
    if info is not None and {k: info.get(k) for k in describe} == describe \
            and staging.size_is(data, info.get("bytes")):
        vectors = staging.read_array(data)
        if vectors is not None and vectors.shape == shape and vectors.dtype == np.float32:
            totals.reused += len(texts)
            totals.outputs[label] = {"file": data, "rows": len(texts), "dimension": encoder.dimension,
                                     "key": encoder.identity.key, "reused": True}
            return vectors
    vectors = np.ascontiguousarray(encoder.encode_documents(texts, progress=progress), dtype=np.float32)
    if vectors.shape != shape:
        raise ValueError(f"encoder {encoder.identity.key!r} returned vectors of shape {vectors.shape} "
                         f"for {len(texts)} texts of dimension {encoder.dimension}")
    size = staging.write_array(data, vectors)
    staging.write_json(info_name, {**describe, "bytes": size})
    totals.computed += len(texts)
    totals.outputs[label] = {"file": data, "rows": len(texts), "dimension": encoder.dimension,
                             "key": encoder.identity.key, "reused": False}
    return vectors


def _embed_documents(technologies: Sequence[Technology], retriever: HybridRetriever, staging: BuildStaging,
                     progress: bool, totals: _Totals) -> dict[str, DenseVectors]:
    """Every dense channel's document vectors (the part of stage 2 that needs no tokens)."""
    texts = [t.text for t in technologies]
    dense: dict[str, DenseVectors] = {}
    for name in retriever.config.encoders:
        encoder = retriever.encoder(name)
        rows = retriever.document_rows(texts, name)
        chosen = [texts[i] for i in rows]
        describe = {"encoder": name, "key": encoder.identity.key, "dimension": encoder.dimension,
                    "role": "document", "ids": [technologies[i].id for i in rows], "texts": _digest(chosen)}
        vectors = _vectors(staging, encoder_file(name), encoder, describe, chosen, progress, totals, name)
        dense[name] = DenseVectors(rows, vectors)
    return dense


def _embed_vocabulary(technologies: Sequence[Technology], tokens: DocumentTokens, retriever: HybridRetriever,
                      staging: BuildStaging, totals: _Totals) -> np.ndarray | None:
    """The translator vocabulary's vectors through the multilingual encoder (``None`` without a translator)."""
    vocabulary = retriever.translation_vocabulary([t.text for t in technologies], tokens)
    multi = retriever.config.dense_multi
    if not (vocabulary and multi):
        return None
    encoder = retriever.encoder(multi)
    describe = {"encoder": multi, "key": encoder.identity.key, "dimension": encoder.dimension,
                "role": "vocabulary", "terms": _digest(vocabulary)}
    return _vectors(staging, encoder_file(multi) + ".vocabulary", encoder, describe, vocabulary, False, totals,
                    f"{multi} vocabulary")


def embed(technologies: Sequence[Technology], tokens: DocumentTokens, retriever: HybridRetriever,
          staging: BuildStaging, *, progress: bool = False) -> StageResult[DocumentEmbeddings]:
    """Stage 2: every dense channel's document vectors (and the translator's vocabulary vectors), each
    from staging when there for the same encoder, ids and texts."""
    totals = _Totals()
    dense = _embed_documents(technologies, retriever, staging, progress, totals)
    vocab_vectors = _embed_vocabulary(technologies, tokens, retriever, staging, totals)
    return StageResult(DocumentEmbeddings(dense, vocab_vectors), totals.outputs, totals.reused, totals.computed)


def tokenize_and_embed(technologies: Sequence[Technology], retriever: HybridRetriever, staging: BuildStaging, *,
                       progress: bool = False, cache: TokenCache | None = None, threads: int | None = None,
                       ) -> tuple[StageResult[DocumentTokens], StageResult[DocumentEmbeddings]]:
    """Stages 1 and 2 with the same outputs as :func:`tokenize` then :func:`embed`, the document vectors
    computed while the texts are analysed: the documents need no tokens, only the translator's vocabulary
    does (embedded once both are done). On a machine of ``threads`` ≥ 2 (default
    :func:`matcher.runtime.cpu_threads`); with one thread, or nothing to overlap, the stages run one after the
    other. Measured on the real corpus (bench/README.md): as fast as one after the other on a quiet 2-core
    machine (Kiwi's model load and first analysis hold the GIL 2.7 s, and both sides turn results into Python
    objects under it), faster when other work shares the cores. In a child process instead of a thread the
    analysis no longer contends for the GIL, but the build then loads Kiwi twice (the version's check
    analyses a query here): slower."""
    from matcher.runtime import cpu_threads

    if (threads or cpu_threads()) < 2 or not retriever.config.lexical or not retriever.config.encoders:
        tokens = tokenize(technologies, retriever, staging, progress=progress, cache=cache)
        return tokens, embed(technologies, tokens.value, retriever, staging, progress=progress)
    totals = _Totals()
    with ThreadPoolExecutor(1, thread_name_prefix="build-tokenize") as pool:
        pending = pool.submit(tokenize, technologies, retriever, staging, progress=progress, cache=cache)
        dense = _embed_documents(technologies, retriever, staging, progress, totals)
        tokens = pending.result()
    vocab_vectors = _embed_vocabulary(technologies, tokens.value, retriever, staging, totals)
    vectors = StageResult(DocumentEmbeddings(dense, vocab_vectors), totals.outputs, totals.reused, totals.computed)
    return tokens, vectors


def index(technologies: Sequence[Technology], tokens: DocumentTokens, embeddings: DocumentEmbeddings,
          retriever: HybridRetriever, *, keep_tokens: bool = True) -> HybridRetriever:
    """Stage 3: ``retriever`` fitted from the staged tokens and vectors (its files are written with the version)."""
    return retriever.fit_from([t.text for t in technologies], tokens, embeddings, keep_tokens=keep_tokens)
