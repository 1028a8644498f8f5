"""The KIPRIS crawl CSV export (as in the INU data set).

Headers are decorated with index types (``'특허명 TEXT'``, ``'출원인  NGRAM'``, ``'출원날짜DATETIME'``,
``' STORED'``) and trailing columns are unnamed. Quirks handled here:

- the description (``설명``) overflows into the unnamed columns after it because commas in it split
  the cell: those cells are joined back with ``','``;
- IPC is a Python list-string ``"['A01G 9/24 G05B 13/02  .... ', 'A01G 9/24|G05B 13/02|G06Q 50/02']"``:
  the full ``'|'`` list is taken when there is one, else the codes of the (possibly truncated) space list;
- dates are space-padded ``' 2021.03.02'`` or blank; numbers may be floats (``'1020210000101.0'``);
- titles are ``'한국어 제목(ENGLISH TITLE)'`` -> ``title`` + ``title_en``;
- applicants are joined by spaces although names contain spaces (see ``applicants.py``);
  inventors are joined by spaces too (personal names).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import replace

from matcher.ingest.convert import build_record
from matcher.ingest.normalize import clean_line, split_title
from matcher.ingest.report import FileOutcome
from matcher.ingest.spec import SourceSpec
from matcher.ingest.tables import CsvRows

FORMAT = "kipris-crawl"
#: Record field -> header (after removing the decoration). Mirrors corpora/specs/kipris-crawl-csv.toml.
CRAWL_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("특허명",),
    "ipc": ("IPC넘버",),
    "applicants": ("출원인",),
    "application_number": ("출원번호",),
    "application_date": ("출원날짜",),
    "registration_number": ("등록번호",),
    "registration_date": ("등록일자",),
    "publication_number": ("공개번호",),
    "publication_date": ("공개일자",),
    "inventors": ("발명가",),
    "abstract": ("설명",),
}
REQUIRED = ("title", "application_number")
_DECORATION = re.compile(
    r"\s*\b(TEXT|NGRAM|NUMERIC|DATETIME|KEYWORD|STORED)\s*$|(?<=[가-힣])(TEXT|NGRAM|NUMERIC|DATETIME|KEYWORD|STORED)\s*$"
)
_IPC = re.compile(r"[A-H]\d{2}[A-Z]\s*\d{1,4}\s*/\s*\d{1,6}")


def default_source() -> SourceSpec:
    return SourceSpec(
        format=FORMAT, columns=dict(CRAWL_COLUMNS), applicant_split="spaces", list_separator="|"
    )


def normalize_header(name: str) -> str:
    """``'출원인  NGRAM'`` -> ``'출원인'``; ``' STORED'`` -> ``''``."""
    text = name.strip().lstrip("\ufeff")
    while True:
        stripped = _DECORATION.sub("", text).strip()
        if stripped == text:
            return text
        text = stripped


def looks_like_crawl(header: Iterable[str]) -> bool:
    """Whether a CSV header is the KIPRIS crawl export's (it has 특허명 and 출원번호)."""
    names = {normalize_header(h) for h in header}
    return {"특허명", "출원번호"} <= names


def parse_ipc(cell: str) -> tuple[str, ...]:
    """IPC codes from the list-string cell (see the module docstring)."""
    text = cell.strip()
    parts: list[str] = [text]
    if text.startswith("["):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, list | tuple):
            parts = [str(v) for v in value]
    piped = [p for p in parts if "|" in p]
    if piped:
        codes: Iterable[str] = piped[-1].split("|")
    else:
        codes = (m.group(0) for p in parts for m in _IPC.finditer(p))
    out: dict[str, None] = {}
    for code in codes:
        compact = re.sub(r"\s+", "", code)
        match = re.fullmatch(r"([A-H]\d{2}[A-Z])(\d{1,4}/\d{1,6})", compact)
        normal = f"{match.group(1)} {match.group(2)}" if match else clean_line(code)
        if normal:
            out.setdefault(normal, None)
    return tuple(out)


def read_kipris_crawl(raw: CsvRows, display: str, source: SourceSpec | None = None) -> FileOutcome:
    """Turn the rows of a crawl export into technologies; problems become entries in the outcome."""
    source = source or default_source()
    if source.format != FORMAT:
        source = replace(source, format=FORMAT)
    columns = source.columns or CRAWL_COLUMNS
    outcome = FileOutcome(file=display, format=FORMAT, encoding=raw.encoding)
    headers = [normalize_header(h) for h in raw.header]
    index: dict[str, int] = {}
    for i, name in enumerate(headers):
        if name:
            index.setdefault(name, i)
    positions: dict[str, int | None] = {}
    for field, names in columns.items():
        positions[field] = next((index[n] for n in names if n in index), None)
    if source.required is not None:
        missing = [repr(c) for c in source.required if normalize_header(c) not in index]
    else:
        missing = [
            f"{columns[f][0]!r} (for {f})" for f in REQUIRED if f in columns and positions.get(f) is None
        ]
    if missing:
        found = ", ".join(repr(h) for h in raw.header)
        outcome.reject_file(
            f"missing required column {missing[0]}; columns found: {found}", rows=len(raw.rows)
        )
        return outcome
    for field, names in columns.items():
        if positions[field] is None:
            outcome.warn(0, field, f"column {names[0]!r} not found; {field} is left empty")
    abstract_at = positions.get("abstract")
    overflow_from = abstract_at + 1 if abstract_at is not None else None
    for number, cells in raw.rows:
        values: dict[str, object] = {}
        for field, at in positions.items():
            values[field] = cells[at] if at is not None and at < len(cells) else ""
        if overflow_from is not None:
            tail: list[str] = []
            for i in range(overflow_from, len(cells)):
                if i < len(headers) and headers[i]:
                    break
                tail.append(cells[i])
            while tail and not tail[-1].strip():
                tail.pop()
            if tail:
                values["abstract"] = ",".join([str(values["abstract"]), *tail])
        title, title_en = split_title(clean_line(values.get("title")))
        values["title"], values["title_en"] = title, title_en
        if "ipc" in values:
            values["ipc"] = list(parse_ipc(str(values["ipc"])))
        if "inventors" in values:
            values["inventors"] = str(values["inventors"]).split()
        record = build_record(values, source, outcome, number)
        if record is not None:
            outcome.records.append((number, record))
    if raw.broken is not None:
        outcome.reject(raw.broken[0], "(file)", raw.broken[1] + "; the rest of the file is not read")
    return outcome
