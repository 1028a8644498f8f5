"""The corpus directory: ``write_corpus`` and ``read_corpus`` mirror each other.

Layout: ``technologies.jsonl``, ``companies.jsonl``, ``institutions.jsonl``, ``demands.jsonl`` (one
``to_dict()`` per line, in ingestion order), ``report.json`` and ``rejects.csv`` (UTF-8 with BOM so
that Excel shows Korean). Writing goes to a temporary directory beside ``out_dir`` that is then
renamed into place, so a reader never sees a half-written corpus.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from matcher.errors import InputFileError, ValidationError
from matcher.files import iter_jsonl, write_jsonl
from matcher.ingest.report import IngestReport
from matcher.records import Company, DemandProfile, Institution, Technology

FILES = {
    "technologies": ("technologies.jsonl", Technology),
    "companies": ("companies.jsonl", Company),
    "institutions": ("institutions.jsonl", Institution),
    "demands": ("demands.jsonl", DemandProfile),
}
REPORT_FILE = "report.json"
REJECTS_FILE = "rejects.csv"
_CORPUS_FILES = {name for name, _ in FILES.values()} | {REPORT_FILE, REJECTS_FILE}


class CorpusLike(Protocol):
    technologies: Sequence[Technology]
    companies: Sequence[Company]
    institutions: Sequence[Institution]
    demands: Sequence[DemandProfile]
    report: IngestReport | None


@dataclass(slots=True)
class Corpus:
    """Records read back from a corpus directory (``report`` is ``None`` without ``report.json``)."""

    technologies: list[Technology] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    institutions: list[Institution] = field(default_factory=list)
    demands: list[DemandProfile] = field(default_factory=list)
    report: IngestReport | None = None


def write_corpus(out_dir: Path, result: CorpusLike) -> Path:
    """Write ``result`` as a corpus directory at ``out_dir`` (replacing an earlier corpus there)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise InputFileError(out_dir, "exists and is not a directory; choose another --out")
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in _CORPUS_FILES)
        if foreign:
            raise InputFileError(
                out_dir,
                f"exists and holds files that are not a corpus ({', '.join(foreign[:5])}); refusing to replace it",
            )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        temp.chmod(0o755)  # mkdtemp makes it private; a corpus is shared with the service
        for attr, (name, _) in FILES.items():
            write_jsonl(temp / name, (record.to_dict() for record in getattr(result, attr)))
        if result.report is not None:
            (temp / REPORT_FILE).write_text(
                json.dumps(result.report.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            (temp / REJECTS_FILE).write_text(result.report.rejects_csv(), encoding="utf-8-sig")
        old: Path | None = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            old.rmdir()
            out_dir.rename(old)
        temp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return out_dir


def _read_jsonl(path: Path, record_type: Any) -> list[Any]:
    records = []
    for number, row in iter_jsonl(path):
        try:
            records.append(record_type.from_dict(row))
        except ValidationError as exc:
            raise InputFileError(path, f"line {number}: {exc}") from None
        except TypeError as exc:
            raise InputFileError(path, f"line {number} is not a {record_type.__name__} ({exc})") from None
    return records


def read_corpus(corpus_dir: Path) -> Corpus:
    """Read a corpus directory written by :func:`write_corpus`."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise InputFileError(
            corpus_dir, "corpus directory does not exist (run `matcher ingest ... --out DIR` first)"
        )
    present = {p.name for p in corpus_dir.iterdir()}
    if not present & ({name for name, _ in FILES.values()} | {REPORT_FILE}):
        raise InputFileError(
            corpus_dir, f"is not a corpus directory (no {', '.join(n for n, _ in FILES.values())})"
        )
    corpus = Corpus()
    for attr, (name, record_type) in FILES.items():
        if name in present:
            setattr(corpus, attr, _read_jsonl(corpus_dir / name, record_type))
    if REPORT_FILE in present:
        try:
            corpus.report = IngestReport.from_dict(
                json.loads((corpus_dir / REPORT_FILE).read_text(encoding="utf-8"))
            )
        except (json.JSONDecodeError, TypeError) as exc:
            raise InputFileError(corpus_dir / REPORT_FILE, f"is not a valid report ({exc})") from None
    return corpus
