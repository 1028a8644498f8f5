"""Export of match, bundle and licensee answers to CSV and XLSX: one flat row per match, per bundle
coverage row and per licensee candidate.

Pure functions over the API's response dicts (both the list shapes and the object shapes with
``candidates`` / ``no_good_match``), so the files hold exactly what the caller was shown. Fields an
older response lacks (legal status, dates, TRL) are filled from ``lookup`` (technology id → record
dict, or ``None`` when unknown or not visible to the caller).

CSV is UTF-8 with a byte-order mark (Excel then opens Korean text correctly); a CSV text cell that a
spreadsheet would run as a formula (``= + - @``, tab, carriage return) is prefixed with ``'``; XLSX cells
are typed, so text is always stored as text, without the control characters XLSX cannot hold.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Row = dict[str, Any]
Lookup = Callable[[str], Mapping[str, Any] | None]

KINDS = ("matches", "bundles", "licensees")
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: legal statuses of records that cannot be licensed (Korean and English), used when a response has no ``active``
INACTIVE_STATUSES = frozenset({"소멸", "거절", "취하", "포기", "lapsed", "refused", "withdrawn", "abandoned"})

TECH_FIELDS = ("legal_status", "active", "application_date", "registration_date", "trl")
MATCH_COLUMNS = (
    "rank", "id", "title", "title_en", "institutions", "relevance", "score", "legal_status", "active",
    "application_date", "registration_date", "trl", "ipc", "covers", "coverage", "best_sentence",
)
BUNDLE_COLUMNS = (
    "verdict", "bundle", "kind", "bundle_score", "bundle_institutions", "requirement", "requirement_text",
    "gap", "relevance", "member_ids", "member_titles", "member_institutions", "legal_status", "active",
    "application_date", "registration_date", "trl",
)
LICENSEE_COLUMNS = (
    "rank", "company", "kind", "relevance", "score", "portfolio_size", "aliases", "signals",
    "evidence_ids", "evidence_titles", "evidence_relevance", "evidence_legal_status",
    "evidence_application_date", "evidence_institutions",
)
COLUMNS = {"matches": MATCH_COLUMNS, "bundles": BUNDLE_COLUMNS, "licensees": LICENSEE_COLUMNS}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _none(_: str) -> Mapping[str, Any] | None:
    return None


def _join(values: Any, sep: str = "; ") -> str:
    if values is None:
        return ""
    if isinstance(values, str):
        return values
    return sep.join(str(v) for v in values if v is not None and v != "")


def _merge(values: list[Any]) -> Any:
    """One member's value as it is; several members' values joined (missing ones as ``–``)."""
    if len(values) == 1:
        return values[0]
    return _join("–" if v is None else v for v in values)


def _active(legal_status: Any, given: Any = None) -> bool | None:
    if isinstance(given, bool):
        return given
    if not legal_status:
        return None
    return str(legal_status).strip().lower() not in INACTIVE_STATUSES


def _tech_fields(item: Mapping[str, Any], lookup: Lookup) -> Row:
    """Legal status, active, dates and TRL of a technology: from ``item``, else from its record."""
    record = lookup(str(item["id"])) if item.get("id") and any(k not in item for k in TECH_FIELDS) else None
    record = record or {}
    out = {k: item[k] if k in item else record.get(k) for k in TECH_FIELDS}
    out["active"] = _active(out["legal_status"], out["active"])
    return out


def _relevance(item: Mapping[str, Any]) -> float | None:
    value = item.get("relevance")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def match_rows(response: Mapping[str, Any], lookup: Lookup = _none) -> list[Row]:
    """One row per match of a ``POST /api/match`` answer."""
    reqs = list(response.get("requirements") or [])
    rows = []
    for rank, m in enumerate(response.get("matches") or [], start=1):
        coverage = list(m.get("coverage") or [])
        evidence = m.get("evidence") or {}
        record = lookup(str(m["id"])) if m.get("id") and ("ipc" not in m and "ipc" not in evidence) else None
        ipc = m.get("ipc") or evidence.get("ipc") or (record or {}).get("ipc") or []
        rows.append({
            "rank": rank, "id": m.get("id"), "title": m.get("title"), "title_en": m.get("title_en") or "",
            "institutions": _join(m.get("institutions")), "relevance": _relevance(m), "score": m.get("score"),
            **_tech_fields(m, lookup), "ipc": _join(ipc, " "),
            "covers": _join(reqs[j] if 0 <= j < len(reqs) else f"#{j}" for j in (m.get("covers") or [])),
            "coverage": _join(f"{reqs[j] if j < len(reqs) else f'#{j}'}: {c:.2f}" for j, c in enumerate(coverage)
                              if isinstance(c, (int, float))),
            "best_sentence": evidence.get("best_sentence") or "",
        })
    return rows


def _coverage_members(row: Mapping[str, Any]) -> list[str]:
    members = row.get("members")
    if isinstance(members, list) and members:
        return [str(m) for m in members]
    return [str(row["member"])] if row.get("member") else []


def bundle_rows(response: Mapping[str, Any], lookup: Lookup = _none) -> list[Row]:
    """One row per coverage row (requirement) of every bundle of a ``POST /api/bundles`` answer."""
    reqs = list(response.get("requirements") or [])
    verdict = response.get("verdict") or ""
    rows = []
    for n, bundle in enumerate(response.get("bundles") or [], start=1):
        titles = dict(zip(bundle.get("members") or [], bundle.get("titles") or [], strict=False))
        gaps = set(bundle.get("gaps") or [])
        for cov in bundle.get("coverage") or []:
            j = cov.get("requirement")
            members = _coverage_members(cov)
            records = [lookup(m) or {} for m in members]
            facts = [_tech_fields({"id": m, **r}, _none) for m, r in zip(members, records, strict=True)]
            relevance = _relevance(cov)
            rows.append({
                "verdict": verdict, "bundle": n, "kind": bundle.get("kind") or "",
                "bundle_score": bundle.get("score"), "bundle_institutions": _join(bundle.get("institutions")),
                "requirement": j + 1 if isinstance(j, int) else j,
                "requirement_text": cov.get("text") or (reqs[j] if isinstance(j, int) and 0 <= j < len(reqs) else ""),
                "gap": j in gaps or not members,
                "relevance": relevance if relevance is not None else cov.get("score"),
                "member_ids": _join(members),
                "member_titles": _join(titles.get(m) or r.get("title") or m for m, r in zip(members, records, strict=True)),
                "member_institutions": _join(dict.fromkeys(i for r in records for i in (r.get("institutions") or []))),
                **{k: _merge([f[k] for f in facts]) for k in TECH_FIELDS},
            })
    return rows


def licensee_candidates(response: Mapping[str, Any] | Sequence[Any]) -> list[Mapping[str, Any]]:
    """The candidates of a ``POST /api/licensees`` answer: a list, or an object with ``candidates``."""
    if isinstance(response, Mapping):
        return list(response.get("candidates") or [])
    return list(response)


def licensee_rows(response: Mapping[str, Any] | Sequence[Any], lookup: Lookup = _none) -> list[Row]:
    """One row per licensee candidate, with the portfolio patents behind it."""
    rows = []
    for rank, c in enumerate(licensee_candidates(response), start=1):
        portfolio = [e for e in c.get("evidence") or [] if e.get("type") == "portfolio" and e.get("id")]
        records = [lookup(str(e["id"])) or {} for e in portfolio]
        rows.append({
            "rank": rank, "company": c.get("company"), "kind": c.get("kind") or "", "relevance": _relevance(c),
            "score": c.get("score"), "portfolio_size": c.get("portfolio_size"),
            "aliases": _join(a for a in c.get("aliases") or [] if a != c.get("company")),
            "signals": _join(f"{k}={v}" for k, v in (c.get("signals") or {}).items()),
            "evidence_ids": _join(e["id"] for e in portfolio),
            "evidence_titles": _join(e.get("title") or r.get("title") for e, r in zip(portfolio, records, strict=True)),
            "evidence_relevance": _join(
                f"{v:.3f}" for v in (e.get("relevance", e.get("similarity")) for e in portfolio)
                if isinstance(v, (int, float))),
            "evidence_legal_status": _join(e.get("legal_status") or r.get("legal_status") or "–"
                                           for e, r in zip(portfolio, records, strict=True)),
            "evidence_application_date": _join(r.get("application_date") or "–" for r in records),
            "evidence_institutions": _join(dict.fromkeys(i for r in records for i in (r.get("institutions") or []))),
        })
    return rows


FLATTEN: dict[str, Callable[[Any, Lookup], list[Row]]] = {
    "matches": match_rows, "bundles": bundle_rows, "licensees": licensee_rows,
}


def rows_for(kind: str, response: Any, lookup: Lookup = _none) -> list[Row]:
    if kind not in FLATTEN:
        raise ValueError(f"unknown export kind {kind!r}; valid: {', '.join(KINDS)}")
    return FLATTEN[kind](response, lookup)


def _value(value: Any) -> Any:
    """Booleans as yes/no, ``None`` empty, numbers kept, anything else as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    return str(value)


def _cell(value: Any) -> Any:
    """A CSV cell: like :func:`_value`, with formula-like text prefixed by ``'``."""
    value = _value(value)
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    """CSV, UTF-8 with a byte-order mark, header row first."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], sheet: str = "export") -> bytes:
    """An XLSX workbook with one sheet: a bold, frozen header row and one row per item."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    ws.freeze_panes = "A2"
    for i, column in enumerate(columns):
        width = 40 if column.endswith(("title", "titles", "text", "sentence", "coverage", "covers")) else 16
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in rows:
        values = []
        for c in columns:
            value = _value(row.get(c))
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # e.g. \x1f in a demand: XLSX cannot hold it
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text: never a formula
            values.append(cell)
        ws.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(kind: str, response: Any, fmt: str, lookup: Lookup = _none) -> bytes:
    """The file for ``kind`` (matches, bundles, licensees) in ``fmt`` (csv, xlsx)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    rows = rows_for(kind, response, lookup)
    columns = COLUMNS[kind]
    return to_csv(rows, columns) if fmt == "csv" else to_xlsx(rows, columns, sheet=kind)
