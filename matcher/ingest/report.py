"""What an ingestion run did: per-file counts and the reject, duplicate and warning entries.

Every row is accounted for: ``read = ingested + duplicates + rejected`` per file and per run.
A whole file that cannot be read is one reject entry at row 0 with field ``'(file)'``; it counts as
as many rejected rows as it held when that is known, and at least one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any

from matcher.records import Company, DemandProfile, Institution, Technology

Record = Technology | Company | Institution | DemandProfile
FILE_FIELD = "(file)"


@dataclass(frozen=True, slots=True)
class RejectEntry:
    """A row (or a whole file, row 0) that was not ingested, and why."""

    file: str
    row: int
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class DuplicateEntry:
    """A row whose id was already ingested from ``kept_file``/``kept_row``."""

    id: str
    file: str
    row: int
    kept_file: str
    kept_row: int


@dataclass(frozen=True, slots=True)
class WarningEntry:
    """Something ingested with a caveat (a dropped date, an empty abstract, a differing duplicate)."""

    file: str
    row: int
    field: str
    message: str


@dataclass(slots=True)
class FileStats:
    """Counts for one input file."""

    file: str
    format: str
    encoding: str
    read: int = 0
    ingested: int = 0
    duplicates: int = 0
    rejected: int = 0


@dataclass(slots=True)
class FileOutcome:
    """What a reader got from one file, before de-duplication."""

    file: str
    format: str
    kind: str = "technology"
    encoding: str = ""
    records: list[tuple[int, Record]] = field(default_factory=list)
    rejects: list[RejectEntry] = field(default_factory=list)
    warnings: list[WarningEntry] = field(default_factory=list)
    rejected_rows: int = 0

    def reject(self, row: int, field_name: str, reason: str, rows: int = 1) -> None:
        self.rejects.append(RejectEntry(self.file, row, field_name, reason))
        self.rejected_rows += rows

    def reject_file(self, reason: str, rows: int = 1) -> None:
        """The whole file (or what remains of it) is unusable; ``rows`` it held are counted rejected."""
        self.reject(0, FILE_FIELD, reason, rows=max(1, rows))

    def warn(self, row: int, field_name: str, message: str) -> None:
        self.warnings.append(WarningEntry(self.file, row, field_name, message))

    @property
    def read(self) -> int:
        return len(self.records) + self.rejected_rows


@dataclass(slots=True)
class IngestReport:
    """Counts and entries for a whole run (``to_dict`` is ``report.json``)."""

    files: list[FileStats] = field(default_factory=list)
    rejects: list[RejectEntry] = field(default_factory=list)
    duplicates_list: list[DuplicateEntry] = field(default_factory=list)
    warnings: list[WarningEntry] = field(default_factory=list)
    #: company names unified by normalisation: ``{name, key, aliases, count}`` per merged company
    company_merges: list[dict[str, Any]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def ingested(self) -> int:
        return sum(f.ingested for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "ingested": self.ingested,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "by_file": [asdict(f) for f in self.files],
            "rejects": [asdict(r) for r in self.rejects],
            "duplicates_list": [asdict(d) for d in self.duplicates_list],
            "warnings": [asdict(w) for w in self.warnings],
            "company_merges": list(self.company_merges),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestReport:
        return cls(
            files=[FileStats(**f) for f in data.get("by_file", [])],
            rejects=[RejectEntry(**r) for r in data.get("rejects", [])],
            duplicates_list=[DuplicateEntry(**d) for d in data.get("duplicates_list", [])],
            warnings=[WarningEntry(**w) for w in data.get("warnings", [])],
            company_merges=list(data.get("company_merges", [])),
        )

    def rejects_csv(self) -> str:
        """The rejects as CSV text with header ``file,row,field,reason``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["file", "row", "field", "reason"])
        for r in self.rejects:
            writer.writerow([r.file, r.row, r.field, r.reason])
        return buffer.getvalue()

    def summary(self) -> str:
        """One line: ``read N, ingested N, duplicates N, rejected N, warnings N``."""
        return (
            f"read {self.read}, ingested {self.ingested}, duplicates {self.duplicates}, "
            f"rejected {self.rejected}, warnings {len(self.warnings)}"
        )
