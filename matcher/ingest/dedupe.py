"""Run-wide de-duplication: the first record with a key is kept, later ones are counted as duplicates.

Keys: technology and demand ids (a KIPRIS id is ``'KR'`` + application number), company and
institution names (whitespace removed, case-folded). A later duplicate whose content differs from the
kept record also gets a warning naming both places and the fields that differ.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from matcher.ingest.report import DuplicateEntry, Record, WarningEntry
from matcher.records import Company, Institution

_IGNORED = ("source_file", "source_row", "content_hash")


def record_key(record: Record) -> str:
    """The identity of a record for de-duplication."""
    if isinstance(record, Company | Institution):
        return "".join(record.name.split()).casefold()
    return record.id


def _content(record: Record) -> dict[str, object]:
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name not in _IGNORED}


@dataclass(frozen=True, slots=True)
class Duplicate:
    entry: DuplicateEntry
    warning: WarningEntry | None


class Deduplicator:
    """Remembers where each key was first seen."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[str, int, Record]] = {}

    def check(self, kind: str, record: Record, file: str, row: int) -> Duplicate | None:
        """``None`` (and remember the record) for a new key, else the duplicate entry and maybe a warning."""
        key = (kind, record_key(record))
        kept = self._seen.get(key)
        if kept is None:
            self._seen[key] = (file, row, record)
            return None
        kept_file, kept_row, kept_record = kept
        name = record.name if isinstance(record, Company | Institution) else record.id
        entry = DuplicateEntry(id=name, file=file, row=row, kept_file=kept_file, kept_row=kept_row)
        old, new = _content(kept_record), _content(record)
        differing = [k for k in new if new[k] != old.get(k)]
        warning = None
        if differing:
            warning = WarningEntry(
                file, row, differing[0],
                f"duplicate {kind} {name!r} differs from the one kept at {kept_file}:{kept_row} "
                f"(fields: {', '.join(differing)}); the first is kept",
            )  # fmt: skip
        return Duplicate(entry, warning)
