"""What a nightly run changes: the new record set against the active version's, by id and content.

A record is *changed* when any field it is indexed or shown with differs (its legal status included),
not only the fields of :func:`matcher.records.content_hash`; where it was read from (file, row) is not
content. Companies, institutions and demands are compared as whole sets (``other`` names the kinds
that differ).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.files import iter_jsonl
from matcher.records import Technology

#: where a record was read from: not part of what it says
_PROVENANCE = frozenset({"source_file", "source_row", "content_hash"})
#: the record files of a version compared as whole sets besides the technologies
OTHER_FILES = {"companies": "companies.jsonl", "institutions": "institutions.jsonl", "demands": "demands.jsonl"}


def fingerprint(row: Mapping[str, Any]) -> str:
    """A digest of a record's content (its dict form without provenance)."""
    payload = {k: v for k, v in row.items() if k not in _PROVENANCE}
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def set_digest(rows: Sequence[Mapping[str, Any]]) -> str:
    """Order-independent digest of a set of records."""
    return hashlib.sha256("\n".join(sorted(fingerprint(r) for r in rows)).encode()).hexdigest()


@dataclass(frozen=True)
class RecordDiff:
    """Technology ids added, changed and removed, and the other record kinds that differ."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    other: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.other)

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed), "removed": len(self.removed)}


def diff_records(previous: Sequence[Mapping[str, Any]], current: Sequence[Technology],
                 previous_other: Mapping[str, str] | None = None,
                 current_other: Mapping[str, str] | None = None) -> RecordDiff:
    """Compare technology rows of the active version (dict form) with the new technologies; ``*_other``
    map a record kind to its :func:`set_digest`."""
    before = {str(r["id"]): fingerprint(r) for r in previous}
    after = {t.id: fingerprint(t.to_dict()) for t in current}
    added = tuple(sorted(i for i in after if i not in before))
    removed = tuple(sorted(i for i in before if i not in after))
    changed = tuple(sorted(i for i in after if i in before and before[i] != after[i]))
    other = tuple(sorted(k for k in (current_other or {})
                         if (previous_other or {}).get(k) != (current_other or {}).get(k)))
    return RecordDiff(added=added, changed=changed, removed=removed, other=other)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a version's JSON-lines record file (none when it is absent)."""
    if not path.is_file():
        return []
    return [row for _, row in iter_jsonl(path)]
