"""Embedding cache keyed by (encoder identity, role, text hash): unchanged text is never embedded twice.

Stored in one SQLite file (vectors as raw float32 bytes, no pickle). :class:`CachedEncoder` wraps any
:class:`Encoder` and counts how many texts it really had to embed. The texts the cache does not hold are
encoded in chunks, each stored as soon as it is done (an interrupted run keeps its work): in this process
(:func:`encode_in_chunks`), or by a :class:`ChunkRunner` given to it — e.g. on a Ray cluster
(``matcher/runners/``) — which sees only those texts.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from matcher.encoders.base import Encoder

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    encoder TEXT NOT NULL,
    role TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (encoder, role, text_hash)
)
"""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def open_cache_db(path: Path, schema: str) -> sqlite3.Connection:
    """A connection to the cache file ``path`` (WAL; its directory created) with ``schema`` applied: the
    embedding cache and the token cache (``retrieval/tokencache.py``) share the file, each its own table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    # A cache: a commit need not reach the disk before the build goes on (WAL keeps the file consistent; a
    # power cut may lose the last commits, which are encoded again). FULL synced each of a cold build's 20
    # chunk commits: 0.3 s of the real corpus's build, the encoder's threads idle meanwhile.
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(schema)
    db.commit()
    return db


class EmbeddingCache:
    """A persistent map (encoder key, role, text hash) → float32 vector."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = open_cache_db(self.path, _SCHEMA)

    def get_many(self, encoder: str, role: str, hashes: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE encoder=? AND role=? AND text_hash IN ({marks})",
                (encoder, role, *chunk),
            )
            for h, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == dim:
                    found[h] = vec
        return found

    def put_many(self, encoder: str, role: str, items: dict[str, np.ndarray]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
            [(encoder, role, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
        )
        self._db.commit()

    def count(self, encoder: str | None = None) -> int:
        if encoder is None:
            return int(self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
        return int(self._db.execute("SELECT COUNT(*) FROM embeddings WHERE encoder=?", (encoder,)).fetchone()[0])

    def close(self) -> None:
        self._db.close()


#: one encoded chunk: positions into the texts given (int64) and their vectors, row for row
Chunk = tuple[np.ndarray, np.ndarray]


def encode_in_chunks(encoder: Encoder, texts: Sequence[str], *, role: str = "document", chunk_size: int = 512,
                     progress: bool = False) -> Iterator[Chunk]:
    """``texts`` through ``encoder`` in this process, ``chunk_size`` at a time, in order."""
    fn = encoder.encode_documents if role == "document" else encoder.encode_queries
    for start in range(0, len(texts), chunk_size):
        chunk = texts[start : start + chunk_size]
        yield np.arange(start, start + len(chunk), dtype=np.int64), fn(chunk, progress=progress)


class ChunkRunner(Protocol):
    """What encodes a cache's misses: every position of ``texts`` exactly once, chunks in any order."""

    def encode_chunks(self, encoder: Encoder, texts: Sequence[str], *, role: str = "document",
                      chunk_size: int = 512, progress: bool = False) -> Iterator[Chunk]: ...


class CachedEncoder(Encoder):
    """An encoder that consults an :class:`EmbeddingCache` first; ``embedded`` counts real encodings.

    ``runner`` (default: this process) encodes the texts the cache does not hold."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache, *, chunk_size: int = 512,
                 runner: ChunkRunner | None = None) -> None:
        self.encoder = encoder
        self.cache = cache
        self.identity = encoder.identity
        self.chunk_size = chunk_size
        self.runner = runner
        self.embedded = 0
        self.reused = 0

    @property
    def query_variant(self) -> str:
        return self.encoder.query_variant

    def _encode(self, texts: Sequence[str], role: str, progress: bool) -> np.ndarray:
        dim = self.identity.dimension
        key = self.query_key if role == "query" else self.identity.key
        hashes = [text_hash(t) for t in texts]
        known = self.cache.get_many(key, role, hashes, dim)
        missing: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in known and h not in missing:
                missing[h] = t
        self.reused += len(texts) - sum(1 for h in hashes if h in missing)
        if missing:
            items = list(missing.items())
            bar = None
            if progress and len(items) > self.chunk_size:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(items), desc=f"embedding ({self.identity.name})", unit="text")
            run = self.runner.encode_chunks if self.runner is not None else encode_in_chunks
            chunks = run(self.encoder, [t for _, t in items], role=role, chunk_size=self.chunk_size,
                         progress=progress and bar is None)
            for positions, vectors in chunks:
                if len(positions) != len(vectors):
                    raise ValueError(f"encoder {key!r}: {len(vectors)} vectors for a chunk of {len(positions)} texts")
                fresh = {items[int(i)][0]: v for i, v in zip(positions, vectors, strict=True)}
                self.cache.put_many(key, role, fresh)  # saved as we go: an interrupted run keeps its work
                known.update(fresh)
                self.embedded += len(positions)
                if bar is not None:
                    bar.update(len(positions))
            if bar is not None:
                bar.close()
            lost = sum(1 for h in missing if h not in known)
            if lost:
                raise ValueError(f"encoder {key!r}: the runner returned no vector for {lost} of {len(missing)} texts")
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.ascontiguousarray(np.stack([known[h] for h in hashes]), dtype=np.float32)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, "document", progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, "query", progress)
