"""Generic CSV / JSON Lines / XLSX sources: columns mapped onto record fields by a source spec.

Without a spec, a file whose columns already are record field names is read with the identity
mapping (see ``detect.py``). List fields are split on the source's ``list_separator`` unless the
cell already holds a list (JSON Lines).
"""

from __future__ import annotations

from typing import Any

from matcher.ingest.convert import build_record
from matcher.ingest.report import FileOutcome
from matcher.ingest.spec import SourceSpec, record_fields
from matcher.ingest.tables import Table


def identity_columns(kind: str, columns: list[str]) -> dict[str, tuple[str, ...]]:
    """The mapping field -> same-named column, for the fields of ``kind`` present in ``columns``."""
    present = set(columns)
    return {name: (name,) for name in record_fields(kind) if name in present}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_table(table: Table, display: str, source: SourceSpec, fmt: str) -> FileOutcome:
    """Records of ``source.kind`` from the rows of ``table``; problems become entries in the outcome."""
    outcome = FileOutcome(file=display, format=fmt, kind=source.kind, encoding=table.encoding)
    columns = source.columns or identity_columns(source.kind, table.columns)
    found = set(table.columns)
    missing = [c for c in source.required_columns() if c not in found]
    if missing:
        outcome.reject_file(
            f"missing required column {missing[0]!r}; columns found: {', '.join(repr(c) for c in table.columns) or '(none)'}",
            rows=len(table.rows) + len(table.bad_rows),
        )
        return outcome
    if not columns:
        outcome.reject_file(
            f"no column maps to a {source.kind} field; columns found: {', '.join(repr(c) for c in table.columns)}",
            rows=len(table.rows) + len(table.bad_rows),
        )
        return outcome
    if fmt != "jsonl":  # JSON Lines objects may simply omit optional keys
        for field, names in columns.items():
            if not any(n in found for n in names):
                outcome.warn(0, field, f"column {names[0]!r} not found; {field} is left empty")
    events: list[tuple[int, Any]] = [(n, reason) for n, reason in table.bad_rows]
    events += [(n, values) for n, values in table.rows]
    events.sort(key=lambda e: e[0])
    for number, item in events:
        if isinstance(item, str):
            outcome.reject(number, "(row)", item)
            continue
        values: dict[str, Any] = {}
        for field, names in columns.items():
            value: Any = None
            for name in names:
                value = item.get(name)
                if not _is_blank(value):
                    break
            values[field] = value
        record = build_record(values, source, outcome, number)
        if record is not None:
            outcome.records.append((number, record))
    if table.broken is not None:
        outcome.reject(table.broken[0], "(file)", table.broken[1] + "; the rest of the file is not read")
    return outcome
