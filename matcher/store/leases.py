"""Leases: a serving process's claim on the index version it has loaded, so retention never deletes it.

```
INDEX/leases/<host>-<pid>-<token>.json   {"version", "host", "pid", "renewed_at", "expires", "expires_at"}
```
The holder renews its lease well before it expires (:class:`Lease`); pruning keeps every version with a
lease that has not expired. A process that dies leaves its lease behind: it stops protecting anything
when it expires and is removed by the next pruning.
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError
from matcher.files import atomic_write_json
from matcher.settings import default_of, settings_from_env

LEASES = "leases"
#: how long a lease holds without renewal (``MATCHER_LEASE_SECONDS``)
DEFAULT_LEASE_SECONDS: float = default_of("lease_seconds")


def lease_seconds() -> float:
    """``MATCHER_LEASE_SECONDS`` (a number of seconds > 0), else :data:`DEFAULT_LEASE_SECONDS`."""
    return settings_from_env().lease_seconds


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Lease:
    """This process's lease in ``root/leases``: :meth:`renew` with the version it serves, :meth:`release` at exit."""

    def __init__(self, root: str | Path, seconds: float | None = None) -> None:
        self.root = Path(root)
        self.seconds = float(seconds) if seconds is not None else lease_seconds()
        if not self.seconds > 0:
            raise ConfigError(f"a lease must last > 0 seconds, got {self.seconds!r}")
        host = socket.gethostname().replace(os.sep, "_") or "host"
        self.path = self.root / LEASES / f"{host}-{os.getpid()}-{os.urandom(3).hex()}.json"
        self.version: str | None = None

    def renew(self, version: str) -> None:
        """Hold ``version`` for another :attr:`seconds` (written aside, then ``os.replace``)."""
        now = time.time()
        data = {"version": version, "host": socket.gethostname(), "pid": os.getpid(), "renewed_at": _iso(now),
                "expires": now + self.seconds, "expires_at": _iso(now + self.seconds)}
        atomic_write_json(self.path, data)
        self.version = version

    def release(self) -> None:
        self.path.unlink(missing_ok=True)
        self.version = None


def read_leases(root: str | Path) -> list[dict[str, Any]]:
    """Every readable lease of ``root`` with its ``path`` (unreadable files are left out: they protect nothing)."""
    folder = Path(root) / LEASES
    if not folder.is_dir():
        return []
    leases = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and isinstance(data.get("version"), str) and isinstance(data.get("expires"), int | float):
            leases.append({**data, "path": str(path)})
    return leases


def leased_versions(root: str | Path, now: float | None = None) -> dict[str, list[dict[str, Any]]]:
    """Version → the leases on it that have not expired."""
    now = time.time() if now is None else now
    held: dict[str, list[dict[str, Any]]] = {}
    for lease in read_leases(root):
        if lease["expires"] > now:
            held.setdefault(lease["version"], []).append(lease)
    return held


def remove_expired(root: str | Path, now: float | None = None) -> list[str]:
    """Delete expired lease files; returns their paths."""
    now = time.time() if now is None else now
    removed = []
    for lease in read_leases(root):
        if lease["expires"] <= now:
            Path(lease["path"]).unlink(missing_ok=True)
            removed.append(lease["path"])
    return removed
