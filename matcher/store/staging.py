"""The staging directory of a build: where a build's stage outputs wait until its version is published.

```
INDEX_DIR/staging/<build key>/
  .lock                        held (flock) by the build using the directory
  tokens.jsonl, tokens.json    the tokenize stage's output and its description
  embeddings/<encoder>.npy     the embed stage's float32 vectors (row order as described) ...
  embeddings/<encoder>.json    ... and their description: encoder identity key, ids in row order, dimension
```
One directory per build key (corpus, pipeline and encoders: ``matcher/build_stages.py``), so an
interrupted build finds the outputs of the stages it finished, and a separate job can fill in a stage
(farm out the embedding) before the build runs. Each output is a data file plus a JSON description
written after it, both atomically (temporary file + ``os.replace``): an output is complete exactly when
its description exists and names the data file's size. Only ``.npy`` (``allow_pickle=False``), JSON and
JSON lines are written; nothing is unpickled.

A build holds the directory's lock while it works; a second build of the same key waits for it. The
directory is removed once the build's version is published (:meth:`BuildStaging.remove`); directories
left by builds that never finished are removed by :func:`remove_stale` after :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from matcher.files import replacing

try:  # POSIX; elsewhere the lock is a no-op
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

STAGING = "staging"
LOCK = ".lock"
#: a staging directory no build has touched for this long is abandoned (a week: a nightly job can resume)
STALE_SECONDS = 7 * 24 * 3600


def staging_root(index_dir: Path) -> Path:
    return Path(index_dir) / STAGING


class BuildStaging:
    """One build's staging directory (see the module docstring); paths are relative to it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    # ------------------------------------------------------------------ writing (atomic)
    @contextmanager
    def _replacing(self, name: str) -> Iterator[Path]:
        """A temporary path beside ``name``; moved onto it when the block succeeds, removed otherwise."""
        with replacing(self.file(name), fsync=True) as tmp:
            yield tmp

    def write_array(self, name: str, array: np.ndarray) -> int:
        """Save ``array`` as ``name`` (``.npy``); its size in bytes."""
        with self._replacing(name) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
        return self.file(name).stat().st_size

    def write_lines(self, name: str, rows: Iterable[Any]) -> int:
        """Save ``rows`` as JSON lines; the file's size in bytes."""
        with self._replacing(name) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        return self.file(name).stat().st_size

    def write_json(self, name: str, data: dict[str, Any]) -> None:
        with self._replacing(name) as tmp:
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    # ------------------------------------------------------------------ reading (None: absent or damaged)
    def read_json(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.file(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def size_is(self, name: str, size: object) -> bool:
        """Whether data file ``name`` exists with ``size`` bytes (as its description recorded)."""
        try:
            return self.file(name).stat().st_size == size
        except OSError:
            return False

    def read_array(self, name: str) -> np.ndarray | None:
        try:
            return np.load(self.file(name), allow_pickle=False)
        except (OSError, ValueError):
            return None

    def read_lines(self, name: str) -> list[Any] | None:
        try:
            with open(self.file(name), encoding="utf-8") as fh:
                return [json.loads(line) for line in fh if line.strip()]
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------------ lifetime
    def remove(self) -> None:
        """Remove the directory and everything in it (the build's version is published)."""
        shutil.rmtree(self.path, ignore_errors=True)


def _lock(path: Path, *, blocking: bool) -> Any | None:
    """The open lock file of staging directory ``path``, locked; ``None`` when not ``blocking`` and held."""
    fh = open(path / LOCK, "a+b")  # held open for the lock's lifetime
    if fcntl is None:  # pragma: no cover
        return fh
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        fh.close()
        return None
    return fh


def _still_there(path: Path, fh: Any) -> bool:
    """Whether the locked file is still ``path``'s lock file (a build that held it may have removed it)."""
    try:
        return os.stat(path / LOCK).st_ino == os.fstat(fh.fileno()).st_ino
    except OSError:
        return False


@contextmanager
def open_staging(index_dir: Path, key: str) -> Iterator[BuildStaging]:
    """The staging directory of build ``key`` under ``index_dir``, created if absent, locked for the block
    (another build of the same key waits until this one is done)."""
    if not key or "/" in key or key.startswith("."):
        raise ValueError(f"a build key is a plain non-empty name, got {key!r}")
    path = staging_root(index_dir) / key
    while True:
        path.mkdir(parents=True, exist_ok=True)
        fh = _lock(path, blocking=True)
        assert fh is not None
        if _still_there(path, fh):
            break
        fh.close()  # the build before removed the directory: start a new one
    try:
        os.utime(path)  # touched: not stale while in use
        yield BuildStaging(path)
    finally:
        fh.close()


def remove_stale(index_dir: Path, max_age: float = STALE_SECONDS, *, keep: Iterable[str] = ()) -> list[str]:
    """Remove staging directories nobody holds whose newest file is older than ``max_age`` seconds, except
    those named in ``keep``; returns their names."""
    kept = set(keep)
    root = staging_root(index_dir)
    if not root.is_dir():
        return []
    removed = []
    now = time.time()
    for path in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in kept):
        try:
            newest = max([path.stat().st_mtime, *(f.stat().st_mtime for f in path.rglob("*"))])
        except OSError:
            continue
        if now - newest <= max_age:
            continue
        fh = _lock(path, blocking=False)
        if fh is None:  # a build is using it
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        finally:
            fh.close()
    return removed
