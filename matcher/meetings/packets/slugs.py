"""File names for participants: readable (Hangul kept), safe on every file system, unique within a plan."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_UNSAFE = re.compile(r"[^\w]+", re.UNICODE)
MAX_LENGTH = 60


def slug(name: str) -> str:
    """``name`` NFKC-normalised, lower-cased, every run of non-word characters one ``-`` (``participant``
    when nothing is left): ``(주)메디센스`` → ``주-메디센스``, ``Pulse Analytics Inc.`` → ``pulse-analytics-inc``."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _UNSAFE.sub("-", text).replace("_", "-").strip("-")
    text = re.sub(r"-{2,}", "-", text)[:MAX_LENGTH].strip("-")
    return text or "participant"


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """Each name's slug; a slug already taken gets ``-2``, ``-3``, … in the order the names come."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        if name in out:
            continue
        base = slug(name)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        out[name] = candidate
    return out
