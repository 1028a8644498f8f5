"""A meeting plan as the planner writes it (``matcher meetings plan``), read into typed objects.

The plan is JSON: ``{"event": {...}, "index_version", "created", "meetings": [...], "unscheduled": [...]}``
(the format is in ``README.md``). Reading checks what the packets rely on — slots and tables of each
meeting exist in the event, the timezone is known, participants are named — and every error names the bad
value and the valid ones.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from matcher.errors import InputFileError, ValidationError
from matcher.records import DemandProfile

KINDS = ("single", "bundle")


@dataclass(frozen=True)
class Participant:
    """A company or an institution of the event; ``demand`` only for companies."""

    name: str
    kind: str  # "company" | "institution"
    max_meetings: int | None = None
    unavailable: tuple[str, ...] = ()
    demand: DemandProfile | None = None


@dataclass(frozen=True)
class Event:
    name: str
    date: dt.date
    timezone: str
    slots: tuple[str, ...]
    slot_minutes: int
    tables: int
    location: str = ""
    companies: tuple[Participant, ...] = ()
    institutions: tuple[Participant, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def start_of(self, slot: str) -> dt.datetime:
        """The local (zone-aware) start time of ``slot`` on the event's date."""
        hour, minute = (int(x) for x in slot.split(":"))
        return dt.datetime.combine(self.date, dt.time(hour, minute), tzinfo=self.zone)

    def company(self, name: str) -> Participant | None:
        return next((c for c in self.companies if c.name == name), None)


@dataclass(frozen=True)
class Evidence:
    """The planner's evidence row for one technology of a meeting (shown only when the viewer may see it)."""

    technology: str
    why: str = ""
    requirements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meeting:
    id: str
    slot: str
    end: str
    table: int
    company: str
    institutions: tuple[str, ...]
    kind: str
    technologies: tuple[str, ...]
    score: float | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Plan:
    event: Event
    index_version: str | None
    created: str
    meetings: tuple[Meeting, ...]
    unscheduled: tuple[dict[str, str], ...] = ()
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def meetings_of(self, name: str) -> list[Meeting]:
        """The meetings a participant (company or institution) takes part in, by start time then table."""
        mine = [m for m in self.meetings if m.company == name or name in m.institutions]
        return sorted(mine, key=lambda m: (m.slot, m.table, m.id))


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise ValidationError(f"{where}: '{key}' is missing", field=key)
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ValidationError(f"{where}: '{key}' must be {names}, got {value!r}", field=key)
    return value


def _hhmm(value: str, where: str) -> str:
    try:
        parsed = dt.datetime.strptime(value, "%H:%M")
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: {value!r} is not a time HH:MM", field="slot") from None
    return parsed.strftime("%H:%M")


def _participant(row: Any, kind: str, where: str) -> Participant:
    if not isinstance(row, Mapping):
        raise ValidationError(f"{where}: an object with 'name' is expected, got {row!r}", field=kind)
    name = _require(row, "name", str, where).strip()
    if not name:
        raise ValidationError(f"{where}: 'name' is empty", field="name")
    demand = None
    if kind == "company" and row.get("demand") is not None:
        raw = row["demand"]
        if not isinstance(raw, Mapping):
            raise ValidationError(f"{where}: 'demand' must be an object with 'text', got {raw!r}", field="demand")
        keep = {k: v for k, v in raw.items() if k in ("text", "requirements", "filters", "id")}
        demand = DemandProfile.from_dict({**keep, "company": name})
    unavailable = row.get("unavailable") or ()
    max_meetings = row.get("max_meetings")
    return Participant(name=name, kind=kind, demand=demand,
                       max_meetings=max_meetings if isinstance(max_meetings, int) else None,
                       unavailable=tuple(str(u) for u in unavailable))


def _event(data: Any) -> Event:
    if not isinstance(data, Mapping):
        raise ValidationError(f"'event' must be an object, got {data!r}", field="event")
    where = "event"
    name = _require(data, "name", str, where)
    raw_date = _require(data, "date", str, where)
    try:
        date = dt.date.fromisoformat(raw_date)
    except ValueError:
        raise ValidationError(f"event: 'date' {raw_date!r} is not a date YYYY-MM-DD", field="date") from None
    timezone = _require(data, "timezone", str, where)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"event: unknown timezone {timezone!r}; valid: an IANA name such as "
                              "'Asia/Seoul' or 'UTC'", field="timezone") from None
    slots = tuple(_hhmm(s, "event.slots") for s in _require(data, "slots", list, where))
    if not slots:
        raise ValidationError("event: 'slots' is empty; give the start times HH:MM", field="slots")
    minutes = _require(data, "slot_minutes", int, where)
    tables = _require(data, "tables", int, where)
    if minutes < 1 or tables < 1:
        raise ValidationError(f"event: 'slot_minutes' ({minutes}) and 'tables' ({tables}) must be >= 1",
                              field="tables")
    companies = tuple(_participant(r, "company", f"event.companies[{i}]")
                      for i, r in enumerate(data.get("companies") or ()))
    institutions = tuple(_participant(r, "institution", f"event.institutions[{i}]")
                         for i, r in enumerate(data.get("institutions") or ()))
    return Event(name=name, date=date, timezone=timezone, slots=slots, slot_minutes=minutes, tables=tables,
                 location=str(data.get("location") or ""), companies=companies, institutions=institutions)


def _evidence(rows: Any) -> tuple[Evidence, ...]:
    out = []
    for row in rows or ():
        if isinstance(row, Mapping) and isinstance(row.get("technology"), str):
            reqs = row.get("requirements") or ()
            out.append(Evidence(technology=row["technology"], why=str(row.get("why") or ""),
                                requirements=tuple(str(r) for r in reqs if isinstance(r, str))))
    return tuple(out)


def _meeting(row: Any, event: Event, i: int) -> Meeting:
    where = f"meetings[{i}]"
    if not isinstance(row, Mapping):
        raise ValidationError(f"{where}: an object is expected, got {row!r}", field="meetings")
    mid = _require(row, "id", str, where)
    where = f"meeting {mid}"
    slot = _hhmm(_require(row, "slot", str, where), where)
    if slot not in event.slots:
        raise ValidationError(f"{where}: slot {slot!r} is not a slot of the event; valid: {', '.join(event.slots)}",
                              field="slot")
    table = _require(row, "table", int, where)
    if not 1 <= table <= event.tables:
        raise ValidationError(f"{where}: table {table} is out of range; valid: 1 to {event.tables}", field="table")
    kind = str(row.get("kind") or "single")
    if kind not in KINDS:
        raise ValidationError(f"{where}: kind {kind!r} is unknown; valid: {', '.join(KINDS)}", field="kind")
    end = row.get("end")
    if not isinstance(end, str):
        end = (event.start_of(slot) + dt.timedelta(minutes=event.slot_minutes)).strftime("%H:%M")
    institutions = _require(row, "institutions", list, where)
    technologies = _require(row, "technologies", list, where)
    score = row.get("score")
    return Meeting(id=mid, slot=slot, end=_hhmm(end, where), table=table, company=_require(row, "company", str, where),
                   institutions=tuple(str(x) for x in institutions), kind=kind,
                   technologies=tuple(str(x) for x in technologies),
                   score=float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
                   evidence=_evidence(row.get("evidence")))


def plan_from_dict(data: Any, source: str = "") -> Plan:
    """A :class:`Plan` from the planner's JSON object (see the module docstring)."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"a plan must be a JSON object with 'event' and 'meetings', got {type(data).__name__}",
                              field="plan")
    event = _event(data.get("event"))
    meetings = tuple(_meeting(r, event, i) for i, r in enumerate(_require(data, "meetings", list, "plan")))
    seen: dict[str, int] = {}
    places: dict[tuple[str, int], str] = {}
    for m in meetings:
        if m.id in seen:
            raise ValidationError(f"meeting id {m.id!r} appears twice; ids must be unique", field="id")
        seen[m.id] = 1
        other = places.setdefault((m.slot, m.table), m.id)
        if other != m.id:
            raise ValidationError(f"meetings {other} and {m.id} share slot {m.slot} table {m.table}", field="table")
    unscheduled = tuple({"company": str(u.get("company", "")), "reason": str(u.get("reason", ""))}
                        for u in data.get("unscheduled") or () if isinstance(u, Mapping))
    version = data.get("index_version")
    extra = {k: data[k] for k in ("objective", "baseline_objective", "solver") if k in data}
    return Plan(event=event, index_version=str(version) if version else None, created=str(data.get("created") or ""),
                meetings=meetings, unscheduled=unscheduled, source=source, extra=extra)


def load_plan(path: str | Path) -> Plan:
    """The plan in the JSON file ``path`` (:class:`InputFileError` naming the file when it cannot be read)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputFileError(path, "no such plan file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        return plan_from_dict(data, source=str(path))
    except ValidationError as exc:
        raise InputFileError(path, str(exc)) from None


def participants(plan: Plan) -> list[Participant]:
    """Every company and institution of the event, then any named only by a meeting, in that order."""
    out: dict[str, Participant] = {}
    for p in (*plan.event.companies, *plan.event.institutions):
        out.setdefault(p.name, p)
    for m in plan.meetings:
        out.setdefault(m.company, Participant(name=m.company, kind="company"))
        for inst in m.institutions:
            out.setdefault(inst, Participant(name=inst, kind="institution"))
    return list(out.values())
