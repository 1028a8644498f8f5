"""TOML source specs: which files to read and how their columns map onto record fields.

```toml
[[source]]
path = "technologies.csv"      # relative to the spec file; a file, a directory or a glob; optional
kind = "technology"            # technology | company | institution | demand
format = "csv"                 # csv | jsonl | xlsx | kipris-xml | kipris-crawl (default: from the extension)
encoding = "auto"              # auto | utf-8 | utf-8-sig | cp949 | euc-kr
id_prefix = ""                 # prefix added to every id
list_separator = "|"           # how list fields are joined in one cell
applicant_split = "separator"  # separator | spaces (default: spaces for kipris-crawl, else separator)
sheet = "Sheet1"               # xlsx only: sheet name or 0-based index (default: the first sheet)
required = ["id", "title"]     # columns that must exist (default: those mapped to id/title, or name)
[source.columns]               # record field = source column (or a list: the first non-empty wins)
id = "id"
title = "title"
```

A spec with a single ``[[source]]`` without ``path`` is a column mapping for any file given on the
command line. Errors are :class:`ConfigError` naming the spec file, the source and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError
from matcher.ingest.encoding import ENCODINGS
from matcher.records import Company, DemandProfile, Institution, Technology
from matcher.tomlfile import read_toml

KINDS = ("technology", "company", "institution", "demand")
FORMATS = ("csv", "jsonl", "xlsx", "kipris-xml", "kipris-crawl")
APPLICANT_SPLITS = ("separator", "spaces")
EXTENSION_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xml": "kipris-xml",
}
_DERIVED = ("source_file", "source_row", "content_hash")
RECORD_TYPES = {
    "technology": Technology,
    "company": Company,
    "institution": Institution,
    "demand": DemandProfile,
}
SOURCE_KEYS = (
    "path", "kind", "format", "encoding", "id_prefix", "list_separator", "applicant_split", "sheet", "required",
    "columns",
)  # fmt: skip
TOP_KEYS = ("source", "name", "description")


def record_fields(kind: str) -> tuple[str, ...]:
    """Field names a source of ``kind`` may map columns to."""
    return tuple(f.name for f in fields(RECORD_TYPES[kind]) if f.name not in _DERIVED)


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One ``[[source]]`` of a spec (or the implicit source of a file read without a spec)."""

    path: Path | None = None
    kind: str = "technology"
    format: str | None = None
    encoding: str = "auto"
    id_prefix: str = ""
    list_separator: str = "|"
    #: ``None``: ``spaces`` for the ``kipris-crawl`` format, ``separator`` otherwise.
    applicant_split: str | None = None
    sheet: str | int | None = None
    required: tuple[str, ...] | None = None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    spec_file: str = ""
    index: int = 0

    def required_columns(self) -> tuple[str, ...]:
        """Columns that must exist: as declared, else those mapped to the record's key fields."""
        if self.required is not None:
            return self.required
        keys = {"technology": ("id", "title"), "company": ("name",), "institution": ("name",), "demand": ()}[
            self.kind
        ]
        if self.kind == "technology" and "id" not in self.columns:
            keys = ("application_number", "title")
        return tuple(self.columns[k][0] for k in keys if k in self.columns)

    def format_for(self, path: Path) -> str | None:
        return self.format or EXTENSION_FORMATS.get(path.suffix.lower())


def _fail(spec_file: Path, where: str, message: str) -> ConfigError:
    return ConfigError(f"{spec_file}: {where}{message}")


def _choice(spec_file: Path, where: str, key: str, value: object, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise _fail(spec_file, where, f"key {key!r} is {value!r}; valid options: {', '.join(options)}")
    return value


def _string(spec_file: Path, where: str, key: str, value: object, *, empty: bool = True) -> str:
    if not isinstance(value, str) or (not empty and not value):
        raise _fail(
            spec_file, where, f"key {key!r} must be {'a' if empty else 'a non-empty'} string, got {value!r}"
        )
    return value


def _columns(spec_file: Path, where: str, kind: str, value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise _fail(spec_file, where, f'[source.columns] must be a table of field = "column", got {value!r}')
    valid = record_fields(kind)
    out: dict[str, tuple[str, ...]] = {}
    for name, column in value.items():
        if name not in valid:
            raise _fail(
                spec_file,
                where,
                f"[source.columns] key {name!r} is not a {kind} field; valid fields: {', '.join(valid)}",
            )
        names = [column] if isinstance(column, str) else column
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(c, str) and c.strip() for c in names)
        ):
            raise _fail(
                spec_file,
                where,
                f"[source.columns] {name!r} must be a column name or a list of them, got {column!r}",
            )
        out[name] = tuple(names)
    return out


def _required(spec_file: Path, where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, dict):  # [source.required] table: field = "column" or column = true
        names = [v if isinstance(v, str) else k for k, v in value.items() if v]
    elif isinstance(value, list):
        names = value
    else:
        raise _fail(spec_file, where, f"key 'required' must be a list of column names, got {value!r}")
    if not all(isinstance(n, str) and n for n in names):
        raise _fail(spec_file, where, f"key 'required' must be a list of column names, got {value!r}")
    return tuple(names)


def parse_source(table: object, spec_file: Path, index: int, count: int = 1) -> SourceSpec:
    """Validate one ``[[source]]`` table (``index`` is 1-based, for messages)."""
    where = f"[[source]] #{index}: " if count > 1 else "[[source]]: "
    if not isinstance(table, dict):
        raise _fail(spec_file, where, f"must be a table, got {table!r}")
    unknown = sorted(set(table) - set(SOURCE_KEYS))
    if unknown:
        raise _fail(spec_file, where, f"unknown key {unknown[0]!r}; valid keys: {', '.join(SOURCE_KEYS)}")
    kind = _choice(spec_file, where, "kind", table.get("kind", "technology"), KINDS)
    fmt = table.get("format")
    if fmt is not None:
        fmt = _choice(spec_file, where, "format", fmt, FORMATS)
        if fmt.startswith("kipris") and kind != "technology":
            raise _fail(
                spec_file, where, f"format {fmt!r} holds patents; kind must be 'technology', got {kind!r}"
            )
    path: Path | None = None
    if "path" in table:
        raw = _string(spec_file, where, "path", table["path"], empty=False)
        path = spec_file.parent / raw
        if (
            fmt is None
            and not any(c in raw for c in "*?[")
            and path.suffix
            and path.suffix.lower() not in EXTENSION_FORMATS
        ):
            raise _fail(
                spec_file, where,
                f"cannot tell the format of {raw!r} from its extension; set format to one of: {', '.join(FORMATS)}",
            )  # fmt: skip
    sheet = table.get("sheet")
    if sheet is not None and not isinstance(sheet, str | int):
        raise _fail(spec_file, where, f"key 'sheet' must be a sheet name or 0-based index, got {sheet!r}")
    return SourceSpec(
        path=path,
        kind=kind,
        format=fmt,
        encoding=_choice(spec_file, where, "encoding", table.get("encoding", "auto"), ENCODINGS),
        id_prefix=_string(spec_file, where, "id_prefix", table.get("id_prefix", "")),
        list_separator=_string(
            spec_file, where, "list_separator", table.get("list_separator", "|"), empty=False
        ),
        applicant_split=(
            _choice(spec_file, where, "applicant_split", table["applicant_split"], APPLICANT_SPLITS)
            if "applicant_split" in table
            else None
        ),
        sheet=sheet,
        required=_required(spec_file, where, table["required"]) if "required" in table else None,
        columns=_columns(spec_file, where, kind, table.get("columns", {})),
        spec_file=str(spec_file),
        index=index,
    )


def load_spec(spec_file: Path) -> list[SourceSpec]:
    """Read and validate a spec file; :class:`ConfigError` names the file, source and key at fault."""
    data: dict[str, Any] = read_toml(spec_file, "spec file")
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise ConfigError(
            f"{spec_file}: unknown top-level key {unknown[0]!r}; valid keys: {', '.join(TOP_KEYS)}"
        )
    tables = data.get("source")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{spec_file}: declares no sources; add at least one [[source]] table")
    sources = [parse_source(t, spec_file, i, len(tables)) for i, t in enumerate(tables, 1)]
    if len(sources) > 1 and any(s.path is None for s in sources):
        missing = next(s.index for s in sources if s.path is None)
        raise ConfigError(
            f"{spec_file}: [[source]] #{missing}: key 'path' is missing (only a lone source may omit it)"
        )
    return sources
