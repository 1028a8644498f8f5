"""The plan: who meets whom, when and at which table — typed, with a JSON mirror (``to_dict`` /
``from_dict``; no pickle). This is the format the briefing packets read; keep its fields stable.

``Plan.to_dict()``::

    {"event": {...normalised event...}, "index_version", "created",
     "meetings": [{"id": "M001", "slot": "09:00", "end": "09:30", "table": 1, "company",
                   "institutions": [...], "kind": "single"|"bundle", "technologies": [ids], "score",
                   "evidence": [{"technology", "title", "institution", "relevance", "requirements", "why"}],
                   "must": bool, "note": str}],
     "unscheduled": [{"company", "institution" (must-requests only), "reason"}],
     "objective": {...}, "baseline_objective": {...}, "solver": {"name": "cp-sat", "status", "seconds",
     "time_limit", "seed", "workers"}, "moved": int|null, "kept": int|null, "changes": [...]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError, MatcherError, ValidationError
from matcher.files import atomic_write_text
from matcher.meetings.event import Event, parse_event

MEETING_KINDS = ("single", "bundle")


@dataclass(frozen=True)
class Evidence:
    """Why one technology is on a meeting's table."""

    technology: str
    title: str
    institution: str
    relevance: float
    requirements: tuple[str, ...] = ()
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"technology": self.technology, "title": self.title, "institution": self.institution,
                "relevance": round(self.relevance, 3), "requirements": list(self.requirements), "why": self.why}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(technology=str(data["technology"]), title=str(data.get("title", "")),
                   institution=str(data.get("institution", "")), relevance=float(data.get("relevance", 0.0)),
                   requirements=tuple(data.get("requirements", ())), why=str(data.get("why", "")))


@dataclass(frozen=True)
class Meeting:
    """One meeting: a company and one institution (``single``) or 2–3 (``bundle``) at one slot and table."""

    id: str
    slot: str
    end: str
    table: int
    company: str
    institutions: tuple[str, ...]
    kind: str
    technologies: tuple[str, ...]
    score: float
    evidence: tuple[Evidence, ...] = ()
    must: bool = False
    note: str = ""

    @property
    def parties(self) -> tuple[str, frozenset[str]]:
        return self.company, frozenset(self.institutions)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "slot": self.slot, "end": self.end, "table": self.table, "company": self.company,
                "institutions": list(self.institutions), "kind": self.kind, "technologies": list(self.technologies),
                "score": round(self.score, 4), "evidence": [e.to_dict() for e in self.evidence],
                "must": self.must, "note": self.note}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Meeting:
        return cls(id=str(data["id"]), slot=str(data["slot"]), end=str(data.get("end", "")), table=int(data["table"]),
                   company=str(data["company"]), institutions=tuple(data["institutions"]),
                   kind=str(data.get("kind", "single")), technologies=tuple(data.get("technologies", ())),
                   score=float(data.get("score", 0.0)),
                   evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence", ())),
                   must=bool(data.get("must", False)), note=str(data.get("note", "")))


@dataclass(frozen=True)
class Unscheduled:
    """A company left without any meeting, or a must-request (``institution`` set) that could not be met."""

    company: str
    reason: str
    institution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"company": self.company, "reason": self.reason}
        if self.institution is not None:
            out["institution"] = self.institution
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Unscheduled:
        return cls(company=str(data["company"]), reason=str(data["reason"]), institution=data.get("institution"))


@dataclass(frozen=True)
class Objective:
    """The plan's value, tier by tier (a higher tier always dominates, see ``problem.py``): published
    meetings kept in place, must-requests met, companies with ≥1 meeting, then the total match value
    (``value`` = Σ integer-scaled scores, ``total_score`` the same in score units); ``weighted`` is the
    single integer CP-SAT maximises."""

    pins_kept: int
    musts_met: int
    companies_met: int
    meetings: int
    value: int
    total_score: float
    weighted: int

    def to_dict(self) -> dict[str, Any]:
        return {"pins_kept": self.pins_kept, "musts_met": self.musts_met, "companies_met": self.companies_met,
                "meetings": self.meetings, "value": self.value, "total_score": round(self.total_score, 4),
                "weighted": self.weighted}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Objective:
        return cls(**{k: data[k] for k in ("pins_kept", "musts_met", "companies_met", "meetings", "value",
                                          "total_score", "weighted")})


@dataclass(frozen=True)
class SolverInfo:
    name: str
    status: str
    seconds: float
    time_limit: float
    seed: int
    workers: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "seconds": round(self.seconds, 3),
                "time_limit": self.time_limit, "seed": self.seed, "workers": self.workers}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SolverInfo:
        return cls(name=str(data["name"]), status=str(data["status"]), seconds=float(data["seconds"]),
                   time_limit=float(data["time_limit"]), seed=int(data["seed"]), workers=int(data["workers"]))


@dataclass(frozen=True)
class Change:
    """A published meeting that did not stay in place: where it was and where it is now (``None``: dropped)."""

    id: str
    company: str
    institutions: tuple[str, ...]
    before: tuple[str, int]
    after: tuple[str, int] | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "company": self.company, "institutions": list(self.institutions),
                "before": {"slot": self.before[0], "table": self.before[1]},
                "after": None if self.after is None else {"slot": self.after[0], "table": self.after[1]}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        after = data.get("after")
        return cls(id=str(data["id"]), company=str(data["company"]), institutions=tuple(data["institutions"]),
                   before=(str(data["before"]["slot"]), int(data["before"]["table"])),
                   after=None if after is None else (str(after["slot"]), int(after["table"])))


@dataclass(frozen=True)
class Plan:
    """A solved schedule for one event over one index version."""

    event: Event
    index_version: str
    created: str
    meetings: tuple[Meeting, ...]
    unscheduled: tuple[Unscheduled, ...]
    objective: Objective
    baseline_objective: Objective
    solver: SolverInfo
    moved: int | None = None
    kept: int | None = None
    changes: tuple[Change, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event.to_dict(), "index_version": self.index_version, "created": self.created,
                "meetings": [m.to_dict() for m in self.meetings],
                "unscheduled": [u.to_dict() for u in self.unscheduled],
                "objective": self.objective.to_dict(), "baseline_objective": self.baseline_objective.to_dict(),
                "solver": self.solver.to_dict(), "moved": self.moved, "kept": self.kept,
                "changes": [c.to_dict() for c in self.changes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        return cls(event=parse_event(data["event"]), index_version=str(data["index_version"]),
                   created=str(data["created"]), meetings=tuple(Meeting.from_dict(m) for m in data["meetings"]),
                   unscheduled=tuple(Unscheduled.from_dict(u) for u in data.get("unscheduled", ())),
                   objective=Objective.from_dict(data["objective"]),
                   baseline_objective=Objective.from_dict(data["baseline_objective"]),
                   solver=SolverInfo.from_dict(data["solver"]), moved=data.get("moved"), kept=data.get("kept"),
                   changes=tuple(Change.from_dict(c) for c in data.get("changes", ())))


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write the plan's JSON (UTF-8, indented) atomically."""
    atomic_write_text(Path(path), json.dumps(plan.to_dict(), ensure_ascii=False, indent=2) + "\n")


def load_plan(path: str | Path) -> Plan:
    """A plan written by :func:`save_plan` (or ``matcher meetings plan --out``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputFileError(path, "plan file does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(path, f"not a readable plan JSON ({exc})") from None
    try:
        return Plan.from_dict(data)
    except MatcherError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValidationError(f"{path}: not a plan written by 'matcher meetings plan' ({type(exc).__name__}: {exc})",
                              field="pin") from None
