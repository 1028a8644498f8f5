"""Ingestion: KIPRIS XML, KIPRIS crawl CSV and generic CSV/JSONL/XLSX into validated records.

Public API (used by the CLI and the service)::

    result = ingest_paths([Path("data/")], spec=None, progress=False)   # -> IngestResult
    write_corpus(Path("var/corpus"), result)
    corpus = read_corpus(Path("var/corpus"))                             # -> Corpus

Nothing is done at import time; see README.md in this folder for what each module does.
"""

from __future__ import annotations

from matcher.ingest.applicants import applicant_kind, institutions_of, split_applicants
from matcher.ingest.corpus import Corpus, read_corpus, write_corpus
from matcher.ingest.encoding import DecodedText, decode_bytes, read_text
from matcher.ingest.pipeline import IngestResult, ingest_paths
from matcher.ingest.report import DuplicateEntry, FileStats, IngestReport, RejectEntry, WarningEntry
from matcher.ingest.spec import SourceSpec, load_spec

__all__ = [
    "Corpus",
    "DecodedText",
    "DuplicateEntry",
    "FileStats",
    "IngestReport",
    "IngestResult",
    "RejectEntry",
    "SourceSpec",
    "WarningEntry",
    "applicant_kind",
    "decode_bytes",
    "ingest_paths",
    "institutions_of",
    "load_spec",
    "read_corpus",
    "read_text",
    "split_applicants",
    "write_corpus",
]
