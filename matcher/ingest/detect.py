"""Which reader a file needs when no spec says so, and which files a directory holds."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from matcher.ingest.spec import record_fields

#: Extensions read when walking a directory.
SUPPORTED_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".tsv", ".xlsx", ".xml")
_DERIVED = {"source_file", "source_row", "content_hash"}


def walk(directory: Path) -> list[Path]:
    """Readable files under ``directory``, recursively, sorted; hidden and Office lock files skipped."""
    found = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts) or path.name.startswith("~$"):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(directory).parts)


def detect_kind(columns: Iterable[str]) -> str | None:
    """The record kind whose field names the columns already are, or ``None``.

    technology: title and id (or application_number); demand: text or requirements;
    institution: name and kind or member; company: name. Every column must be a field name.
    """
    names = {c for c in columns if c} - _DERIVED
    if not names:
        return None
    if (
        names <= set(record_fields("technology"))
        and "title" in names
        and names & {"id", "application_number"}
    ):
        return "technology"
    if names <= set(record_fields("demand")) and names & {"text", "requirements"}:
        return "demand"
    if names <= set(record_fields("institution")) and "name" in names and names & {"kind", "member"}:
        return "institution"
    if names <= set(record_fields("company")) and "name" in names:
        return "company"
    return None


def needs_spec_reason(columns: list[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:40]) or "(none)"
    return (
        f"columns {shown} are neither a KIPRIS crawl export nor record field names "
        "(e.g. id, title, abstract, applicants); give --spec with a [[source]] mapping them "
        "(see corpora/specs/README.md)"
    )
