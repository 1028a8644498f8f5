"""Turn one source row (record field -> raw value) into a validated record, or a reject entry.

Rules (the same for every reader):

- a value longer than ``records.MAX_FIELD_CHARS`` rejects the row, naming the field and its length;
- technologies need an id (declared, or ``'KR'`` + a 13-digit application number) and a title;
  an empty abstract with a title is ingested with a warning;
- a date that cannot be parsed is dropped (left empty) with a warning: the row is still usable;
- any other invalid value (TRL, yes/no, language, kind, application number) rejects the row;
- a row gets at most one reject entry: the first problem found.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from matcher.errors import ValidationError
from matcher.ingest.applicants import INSTITUTION_KINDS, applicant_kind, institutions_of, split_applicants
from matcher.ingest.normalize import (
    clean_line,
    clean_text,
    normalize_number,
    parse_bool,
    parse_date,
    parse_trl,
    split_list,
)
from matcher.ingest.report import FileOutcome, Record
from matcher.ingest.spec import SourceSpec
from matcher.records import MAX_FIELD_CHARS, Company, DemandProfile, Institution, Technology
from matcher.text.lang import detect_language

_DATES = ("application_date", "publication_date", "registration_date")
_NUMBERS = ("publication_number", "registration_number")


class _Reject(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _length(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(_length(v) for v in value)
    if isinstance(value, dict):
        return len(json.dumps(value, ensure_ascii=False))
    return 0


def _check_lengths(values: dict[str, Any]) -> None:
    for name, value in values.items():
        size = _length(value)
        if size > MAX_FIELD_CHARS:
            raise _Reject(
                name, f"field {name!r} is {size:,} characters, over the limit of {MAX_FIELD_CHARS:,}"
            )


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def _list(value: Any, separator: str) -> tuple[str, ...]:
    return split_list(value, separator)


def application_number(value: Any, *, required: bool) -> str | None:
    """The 13-digit KIPRIS application number (``10...`` patent, ``20...`` utility model)."""
    try:
        number = normalize_number(value)
    except ValueError as exc:
        raise _Reject("application_number", f"application number {exc}") from None
    if not number:
        if required:
            raise _Reject("application_number", "missing id: the application number is empty")
        return None
    if len(number) != 13 or number[:2] not in ("10", "20"):
        if required:
            raise _Reject(
                "application_number",
                f"application number {number!r} is not a 13-digit KIPRIS patent (10...) or utility-model (20...) number",
            )
        return number
    return number


def _dates(values: dict[str, Any], warn: Callable[[str, str], None]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _DATES:
        try:
            out[name] = parse_date(values.get(name))
        except ValueError as exc:
            warn(name, f"{exc}; the date is left empty")
            out[name] = None
    return out


def _applicants(value: Any, source: SourceSpec) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return split_list(value)
    text = clean_line(value)
    if not text:
        return ()
    mode = source.applicant_split or ("spaces" if source.format == "kipris-crawl" else "separator")
    if mode == "spaces":
        return split_applicants(text)
    return split_applicants(text, separator=source.list_separator)


def _technology(
    values: dict[str, Any], source: SourceSpec, file: str, row: int, warn: Callable[[str, str], None]
) -> Technology:
    kipris = (source.format or "").startswith("kipris")
    number = application_number(values.get("application_number"), required=kipris)
    raw_id = clean_line(values.get("id"))
    if kipris or not raw_id:
        if number is None or len(number) != 13:
            raise _Reject("id", "missing id: no id and no 13-digit application number")
        record_id = "KR" + number
    else:
        record_id = raw_id
    record_id = source.id_prefix + record_id
    title, abstract = clean_line(values.get("title")), clean_text(values.get("abstract"))
    if not title:
        raise _Reject("title", "title and abstract are both empty" if not abstract else "missing title")
    if not abstract:
        warn("abstract", "empty abstract; ingested with the title only")
    applicants = _applicants(values.get("applicants"), source)
    institutions = _list(values.get("institutions"), source.list_separator) or institutions_of(applicants)
    kind = clean_line(values.get("kind")).lower()
    if not kind:
        kind = "utility" if number and number.startswith("20") and len(number) == 13 else "patent"
    numbers: dict[str, str | None] = {}
    for name in _NUMBERS:
        text = clean_line(values.get(name))
        try:
            numbers[name] = normalize_number(text) or None
        except ValueError:
            numbers[name] = text or None
    title_en = clean_line(values.get("title_en"))
    language = clean_line(values.get("language")).lower() or detect_language(f"{title}\n{abstract}")
    try:
        trl = parse_trl(values.get("trl"))
    except ValueError as exc:
        raise _Reject("trl", str(exc)) from None
    try:
        confidential = parse_bool(values.get("confidential"))
    except ValueError as exc:
        raise _Reject("confidential", str(exc)) from None
    return Technology(
        id=record_id,
        title=title,
        abstract=abstract,
        claims=clean_text(values.get("claims")),
        applicants=applicants,
        institutions=institutions,
        ipc=_list(values.get("ipc"), source.list_separator),
        application_number=number,
        **_dates(values, warn),
        **numbers,
        legal_status=clean_line(values.get("legal_status")) or None,
        language=language,
        title_en=title_en,
        inventors=_list(values.get("inventors"), source.list_separator),
        kind=kind,
        trl=trl,
        confidential=confidential,
        source_file=file,
        source_row=row,
    )


def _company(values: dict[str, Any], source: SourceSpec) -> Company:
    sep = source.list_separator
    name = clean_line(values.get("name"))
    if not name:
        raise _Reject("name", "missing company name")
    return Company(
        name=name,
        aliases=_list(values.get("aliases"), sep),
        description=clean_text(values.get("description")),
        industry_codes=_list(values.get("industry_codes"), sep),
        products=_list(values.get("products"), sep),
    )


def _institution(values: dict[str, Any], source: SourceSpec) -> Institution:
    name = clean_line(values.get("name"))
    if not name:
        raise _Reject("name", "missing institution name")
    kind = clean_line(values.get("kind")).lower()
    if not kind:
        guessed = applicant_kind(name)
        kind = guessed if guessed in INSTITUTION_KINDS else "other"
    member_raw = values.get("member")
    try:
        member = True if _is_blank(member_raw) else parse_bool(member_raw)
    except ValueError as exc:
        raise _Reject("member", str(exc)) from None
    return Institution(
        name=name, aliases=_list(values.get("aliases"), source.list_separator), kind=kind, member=member
    )


def _demand(values: dict[str, Any], source: SourceSpec, file: str, row: int) -> DemandProfile:
    filters = values.get("filters")
    if _is_blank(filters):
        filters = {}
    elif isinstance(filters, str):
        try:
            filters = json.loads(filters)
        except json.JSONDecodeError as exc:
            raise _Reject("filters", f"filters is not a JSON object ({exc.msg})") from None
    record_id = clean_line(values.get("id")) or f"{PurePath(file).stem}-{row}"
    return DemandProfile(
        id=source.id_prefix + record_id,
        company=clean_line(values.get("company")),
        text=clean_text(values.get("text")),
        requirements=_list(values.get("requirements"), source.list_separator),
        filters=filters,
    )


def build_record(values: dict[str, Any], source: SourceSpec, outcome: FileOutcome, row: int) -> Record | None:
    """A record of ``source.kind`` from ``values``; on a problem, a reject entry in ``outcome`` and ``None``."""

    warnings: list[tuple[str, str]] = []

    def warn(field: str, message: str) -> None:
        warnings.append((field, message))

    try:
        _check_lengths(values)
        record: Record
        if source.kind == "technology":
            record = _technology(values, source, outcome.file, row, warn)
        elif source.kind == "company":
            record = _company(values, source)
        elif source.kind == "institution":
            record = _institution(values, source)
        else:
            record = _demand(values, source, outcome.file, row)
    except _Reject as exc:
        outcome.reject(row, exc.field, exc.reason)
    except ValidationError as exc:
        outcome.reject(row, exc.field or "(row)", str(exc))
    else:
        for field, message in warnings:  # only a row that is ingested keeps its warnings
            outcome.warn(row, field, message)
        return record
    return None
