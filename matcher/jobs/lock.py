"""The nightly run's lock: ``INDEX/nightly.lock`` held with ``fcntl.flock`` for the whole run.

Taken first (before any source is read or model loaded); a second run finds it held and stops at once
(status ``busy``). The operating system releases a flock when its holder dies, ``kill -9`` included, so
a crashed run never leaves a lock behind that blocks the next one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matcher.errors import MatcherError

try:  # POSIX; elsewhere the lock is a no-op
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

LOCK = "nightly.lock"


class NightlyBusy(MatcherError):
    """Another nightly run holds the index's lock."""


@contextmanager
def nightly_lock(index_dir: Path) -> Iterator[Path]:
    """Hold ``index_dir/nightly.lock`` (the directory is created) for the block; :class:`NightlyBusy`
    naming the lock file (and the holder's pid when it wrote one) if another run holds it."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK
    with open(path, "a+", encoding="utf-8") as fh:
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "unknown"
                raise NightlyBusy(f"{path}: another nightly run holds the lock (pid {holder}); "
                                  "this run does nothing") from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
            yield path
        finally:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
