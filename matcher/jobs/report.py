"""A nightly run's report: its status and exit code, the JSON object ``--json`` prints, the line appended
to ``INDEX/nightly-runs.jsonl`` and the text a person reads."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.files import append_jsonl, iter_jsonl

RUNS = "nightly-runs.jsonl"
#: exit codes of ``matcher nightly`` by status (75 is EX_TEMPFAIL: try again later)
EXIT_CODES = {"published": 0, "unchanged": 0, "refused": 3, "busy": 75, "failed": 1}
SUCCESS = frozenset({"published", "unchanged"})


@dataclass
class NightlyReport:
    status: str = "failed"
    version: str | None = None
    previous: str | None = None
    added: int = 0
    changed: int = 0
    removed: int = 0
    embedded: int = 0
    tokenized: int = 0  # texts analysed by the build (the others' tokens came from the token cache)
    alerts: int = 0
    seconds: float = 0.0
    started_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    finished: float = 0.0
    sources: list[dict[str, Any]] = field(default_factory=list)
    gate: dict[str, Any] | None = None
    overlaps: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    hook_errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status, "version": self.version, "added": self.added, "changed": self.changed,
            "removed": self.removed, "embedded": self.embedded, "tokenized": self.tokenized,
            "alerts": self.alerts,
            "seconds": round(self.seconds, 3), "previous": self.previous, "started_at": self.started_at,
            "finished": round(self.finished, 3), "sources": self.sources,
        }
        if self.gate is not None:
            out["gate"] = self.gate
        if self.overlaps:
            out["overlaps"] = self.overlaps
        if self.error is not None:
            out["error"] = self.error
        if self.hook_errors:
            out["hook_errors"] = self.hook_errors
        return out

    def text(self) -> str:
        counts = f"added {self.added}, changed {self.changed}, removed {self.removed}, embedded {self.embedded}"
        if self.status == "published":
            head = f"published {self.version} (was {self.previous}): {counts}, alerts {self.alerts}"
        elif self.status == "unchanged":
            head = f"unchanged: the active version {self.version} holds every source as it is"
        elif self.status == "refused":
            failed = (self.gate or {}).get("failed")
            figures = next((c for c in (self.gate or {}).get("checks", []) if c["check"] == failed), {})
            head = (f"refused: staged version {self.version} failed the gate check {failed!r} {figures}; "
                    f"the active version stays {self.previous}")
        else:
            head = f"{self.status}: {self.error}"
        return f"{head} ({self.seconds:.1f} s)"


def append_run(index_dir: Path, report: NightlyReport) -> None:
    append_jsonl(Path(index_dir) / RUNS, report.to_dict(), fsync=True)


def last_success(index_dir: Path) -> float | None:
    """When the newest successful run (published or unchanged) of ``index_dir`` finished (unix time)."""
    path = Path(index_dir) / RUNS
    if not path.is_file():
        return None
    newest = None
    for _, row in iter_jsonl(path):
        if isinstance(row, dict) and row.get("status") in SUCCESS and row.get("finished"):
            newest = float(row["finished"])
    return newest
