"""Load CSV, JSON Lines and XLSX files into rows of cells, keeping 1-based row numbers.

CSV is read with the standard ``csv`` module (not pandas) so that a malformed row is reported with
its own row number instead of being dropped; XLSX goes through ``pandas.read_excel`` (openpyxl,
``dtype=str``). Row numbers: CSV and XLSX count data rows after the header (1 = the first data row,
blank rows included in the numbering but not read); JSON Lines counts lines.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError
from matcher.ingest.encoding import read_text


@dataclass(slots=True)
class CsvRows:
    """Header and data rows of a CSV file, as lists of cells."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str
    #: (row, reason) when the file is malformed from that row on; the rows before it are kept.
    broken: tuple[int, str] | None = None


@dataclass(slots=True)
class Table:
    """Rows of a CSV, JSONL or XLSX file keyed by column name."""

    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    encoding: str
    #: Rows that could not be read at all: (row, reason).
    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    broken: tuple[int, str] | None = None


def _raise_field_limit() -> None:
    limit = sys.maxsize
    while True:  # a 1 MB cell must reach the length check, not trip the csv module
        try:
            csv.field_size_limit(max(csv.field_size_limit(), limit))
            return
        except OverflowError:
            limit //= 2


def read_csv_rows(path: Path, encoding: str = "auto") -> CsvRows:
    """Read a CSV (``.tsv``: tab-separated) file; :class:`InputFileError` when it is not text or empty."""
    _raise_field_limit()
    decoded = read_text(path, encoding)
    if not decoded.text.strip():
        raise InputFileError(path, "file is empty")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(decoded.text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for cells in reader:
            if header is None:
                if any(c.strip() for c in cells):
                    header = [c.strip().lstrip("\ufeff") for c in cells]
                continue
            number += 1
            if any(c.strip() for c in cells):
                rows.append((number, cells))
    except csv.Error as exc:
        return CsvRows(
            header or [],
            rows,
            decoded.encoding,
            (number + 1, f"CSV is malformed at line {reader.line_num} ({exc})"),
        )
    return CsvRows(header or [], rows, decoded.encoding)


def csv_table(raw: CsvRows) -> Table:
    """Rows of a read CSV keyed by header name; a row with extra non-empty cells is a bad row."""
    width = len(raw.header)
    table = Table(raw.header, [], raw.encoding, broken=raw.broken)
    for number, cells in raw.rows:
        extra = cells[width:]
        if any(c.strip() for c in extra):
            table.bad_rows.append(
                (
                    number,
                    f"row has {len(cells)} cells but the header has {width} columns (an unquoted comma?)",
                )
            )
            continue
        values: dict[str, Any] = {}
        for i, name in enumerate(raw.header):
            if name:  # the first of two same-named columns wins
                values.setdefault(name, cells[i] if i < len(cells) else "")
        table.rows.append((number, values))
    return table


def _jsonl_table(path: Path, encoding: str) -> Table:
    decoded = read_text(path, encoding)
    if not decoded.text.strip():
        raise InputFileError(path, "file is empty")
    columns: dict[str, None] = {}
    table = Table([], [], decoded.encoding)
    for number, line in enumerate(decoded.text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            table.bad_rows.append((number, f"line is not JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            table.bad_rows.append((number, f"line is a JSON {type(obj).__name__}, not an object"))
            continue
        for key in obj:
            columns.setdefault(str(key), None)
        table.rows.append((number, {str(k): v for k, v in obj.items()}))
    table.columns = list(columns)
    return table


def _xlsx_table(path: Path, sheet: str | int | None) -> Table:
    import pandas as pd

    try:
        frame = pd.read_excel(
            path, sheet_name=0 if sheet is None else sheet, dtype=str, engine="openpyxl",
            keep_default_na=False, na_filter=False,
        )  # fmt: skip
    except ValueError as exc:  # e.g. a sheet that does not exist
        raise InputFileError(path, f"cannot read the workbook: {exc}") from None
    except Exception as exc:  # openpyxl raises zipfile/KeyError/... for files that are not workbooks
        raise InputFileError(
            path, f"is not a readable .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    columns = [str(c).strip() for c in frame.columns]
    table = Table([c for c in columns if not c.startswith("Unnamed: ")], [], "xlsx")
    for number, values in enumerate(frame.itertuples(index=False, name=None), 1):
        cells = ["" if v is None else str(v) for v in values]
        if any(c.strip() for c in cells):
            table.rows.append(
                (
                    number,
                    {name: cells[i] for i, name in enumerate(columns) if not name.startswith("Unnamed: ")},
                )
            )
    return table


def load_table(path: Path, fmt: str, encoding: str = "auto", sheet: str | int | None = None) -> Table:
    """Rows of ``path`` read as ``fmt`` (``csv``, ``jsonl`` or ``xlsx``)."""
    if fmt == "csv":
        return csv_table(read_csv_rows(path, encoding))
    if fmt == "jsonl":
        return _jsonl_table(path, encoding)
    if fmt == "xlsx":
        if not path.stat().st_size:
            raise InputFileError(path, "file is empty")
        return _xlsx_table(path, sheet)
    raise InputFileError(path, f"format {fmt!r} is not a table format; valid options: csv, jsonl, xlsx")
