"""The activation log of an index directory: one JSON line per switch of the active version.

``INDEX/activations.jsonl`` is append-only; each line is
``{"at": UTC ISO time, "by": "cli:<user>" | "api:<key id>" | "build", "action": "activate" | "rollback" |
"build", "from": VERSION | null, "to": VERSION}``. The version active before the current one (the default
rollback target, kept by retention) is read from it.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.files import append_jsonl

ACTIVATIONS = "activations.jsonl"
ACTIONS = ("activate", "rollback", "build")

log = logging.getLogger("matcher.index")


def utc_now() -> str:
    """The current time as UTC ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cli_actor() -> str:
    """``cli:<user>``: who ran a command, for the log."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        user = os.environ.get("USER") or "unknown"
    return f"cli:{user}"


def append_activation(root: Path, *, by: str, action: str, previous: str | None, to: str) -> dict[str, Any]:
    """Append one activation to ``root/activations.jsonl`` (flushed and fsynced); returns the entry."""
    entry = {"at": utc_now(), "by": by, "action": action, "from": previous, "to": to}
    append_jsonl(Path(root) / ACTIVATIONS, entry, fsync=True)
    return entry


def read_activations(root: Path) -> list[dict[str, Any]]:
    """Every activation, oldest first (empty when none was logged); unreadable lines are skipped with a warning."""
    path = Path(root) / ACTIVATIONS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    entries = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            log.warning("%s: line %d is not valid JSON (%s); skipped", path, n, exc.msg)
            continue
        if isinstance(entry, dict) and isinstance(entry.get("to"), str):
            entries.append(entry)
        else:
            log.warning("%s: line %d is not an activation (no 'to'); skipped", path, n)
    return entries


def previous_active(root: Path, current: str | None) -> str | None:
    """The version that was active before ``current`` last became active (``None`` when the log does not say)."""
    if current is None:
        return None
    for entry in reversed(read_activations(root)):
        if entry["to"] == current:
            previous = entry.get("from")
            return previous if isinstance(previous, str) and previous != current else None
    return None
