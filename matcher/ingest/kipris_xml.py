"""KIPRIS Plus XML responses: ``<response><body><items><PatentUtilityInfo>...`` (one page per file).

Each ``<PatentUtilityInfo>`` (or ``<item>``, as in the KIPRIS Open API) is one row, numbered from 1
in document order. Co-applicants and IPC codes are joined by ``'|'``. A truncated or malformed file
keeps the items completed before the parser's error and adds one reject entry for the remainder,
naming the parser's line and column. ``xml.etree`` is used incrementally (no lxml).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from matcher.errors import InputFileError
from matcher.ingest.convert import build_record
from matcher.ingest.encoding import decode_bytes
from matcher.ingest.report import FileOutcome
from matcher.ingest.spec import SourceSpec

FORMAT = "kipris-xml"
ITEM_TAGS = frozenset({"PatentUtilityInfo", "item"})
#: Record field -> element names (the first non-empty wins). Mirrors corpora/specs/kipris-plus-xml.toml.
XML_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("InventionName", "inventionTitle"),
    "abstract": ("Abstract", "astrtCont"),
    "applicants": ("Applicant", "applicantName"),
    "ipc": ("InternationalpatentclassificationNumber", "ipcNumber"),
    "application_number": ("ApplicationNumber", "applicationNumber"),
    "application_date": ("ApplicationDate", "applicationDate"),
    "publication_number": ("OpeningNumber", "openNumber", "PublicNumber", "publicationNumber"),
    "publication_date": ("OpeningDate", "openDate", "PublicDate", "publicationDate"),
    "registration_number": ("RegistrationNumber", "registerNumber"),
    "registration_date": ("RegistrationDate", "registerDate"),
    "legal_status": ("RegistrationStatus", "registerStatus"),
}
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._\-]+)[\"']")
_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_CHUNK = 1 << 16


def default_source() -> SourceSpec:
    return SourceSpec(format=FORMAT, columns=dict(XML_COLUMNS))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _utf8_bytes(data: bytes, path: Path, encoding: str) -> tuple[bytes, str]:
    """Bytes expat can parse (UTF-8) and the encoding they came in."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], "utf-8-sig"
    match = _DECLARATION.match(data[:512])
    declared = match.group(1).decode("ascii").lower() if match else None
    if encoding == "auto" and (declared in _UTF8 or (declared is None and b"\x00" not in data[:4096])):
        if declared is not None:
            return data, declared
        try:
            data.decode("utf-8")
            return data, "utf-8"
        except UnicodeDecodeError:
            pass
    decoded = decode_bytes(data, path, declared if encoding == "auto" and declared else encoding)
    text = decoded.text
    if match:
        text = re.sub(r"^\s*<\?xml[^>]*\?>", '<?xml version="1.0" encoding="utf-8"?>', text, count=1)
    return text.encode("utf-8"), decoded.encoding


def read_kipris_xml(path: Path, display: str, source: SourceSpec | None = None) -> FileOutcome:
    """Read one KIPRIS Plus XML response; problems become entries in the returned outcome."""
    source = source or default_source()
    columns = source.columns or XML_COLUMNS
    outcome = FileOutcome(file=display, format=FORMAT)
    try:
        data, outcome.encoding = _utf8_bytes(path.read_bytes(), path, source.encoding)
    except InputFileError as exc:
        outcome.reject_file(exc.reason)
        return outcome
    except OSError as exc:
        outcome.reject_file(f"cannot be read ({exc.strerror or exc})")
        return outcome
    if not data.strip():
        outcome.reject_file("file is empty")
        return outcome
    parser = ET.XMLPullParser(events=("start", "end"))
    state = _State()
    error: ET.ParseError | None = None
    try:
        for offset in range(0, len(data), _CHUNK):
            parser.feed(data[offset : offset + _CHUNK])
            _drain(parser, state, columns, source, outcome)
        parser.close()
        _drain(parser, state, columns, source, outcome)
    except ET.ParseError as exc:
        error = exc
    items, root, header = state.items, state.root, state.header
    if error is not None:
        line, column = getattr(error, "position", (0, 0))
        message = str(error).split(":", 1)[0]
        if items:
            outcome.reject(
                items + 1, "(file)",
                f"XML is malformed at line {line}, column {column} ({message}); {items} complete items were "
                "recovered before it and the rest of the file is not read",
            )  # fmt: skip
        else:
            outcome.reject_file(f"not well-formed XML: {message} at line {line}, column {column}")
        return outcome
    if items == 0:
        code, message = header.get("resultCode", ""), header.get("resultMsg", "")
        if code not in ("", "0", "00"):
            outcome.reject_file(f"KIPRIS error response: resultCode {code!r}, resultMsg {message!r}")
        elif root != "response":
            outcome.reject_file(
                f"no <PatentUtilityInfo> items and root element <{root}>: not a KIPRIS Plus response"
            )
        else:
            outcome.warn(0, "(file)", "KIPRIS response with no items")
    return outcome


class _State:
    __slots__ = ("items", "root", "header")

    def __init__(self) -> None:
        self.items = 0
        self.root: str | None = None
        self.header: dict[str, str] = {}


def _drain(
    parser: ET.XMLPullParser,
    state: _State,
    columns: dict[str, tuple[str, ...]],
    source: SourceSpec,
    outcome: FileOutcome,
) -> None:
    """Turn the parser's pending events into records; re-raises the parser's error after the events before it."""
    for event, element in parser.read_events():
        tag = _local(element.tag)
        if event == "start":
            state.root = state.root or tag
            continue
        if tag in ("resultCode", "resultMsg", "TotalSearchCount"):
            state.header[tag] = (element.text or "").strip()
        elif tag in ITEM_TAGS:
            state.items += 1
            values = {_local(child.tag): (child.text or "") for child in element}
            element.clear()
            mapped = {field: _first(values, names) for field, names in columns.items()}
            record = build_record(mapped, source, outcome, state.items)
            if record is not None:
                outcome.records.append((state.items, record))


def _first(values: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        value = values.get(name, "")
        if value.strip():
            return value
    return ""
