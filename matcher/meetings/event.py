"""The event file: a matchmaking day's slots, tables, companies (with their demands), institutions and
requests — read from JSON or TOML (same fields), validated, institution names resolved.

Every error names the entry it is about (``companies[3].unavailable[0]: "9:70" is not one of the event's
slots 09:00, 09:30, …``); see ``matcher/meetings/README.md`` for the format and ``corpora/demo/event.json``
for an example.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError, ValidationError
from matcher.institutions import InstitutionRegistry
from matcher.records import DemandProfile, check_iso_date
from matcher.tomlfile import read_toml

DEFAULT_TIMEZONE = "Asia/Seoul"
REQUEST_KINDS = ("must", "avoid")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DEMAND_KEYS = ("text", "requirements", "filters", "id")


@dataclass(frozen=True)
class CompanyEntry:
    """A company at the event: its demand, how many meetings it takes and the slots it cannot make."""

    name: str
    demand: DemandProfile
    max_meetings: int
    unavailable: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        demand = {"text": self.demand.text, "requirements": list(self.demand.requirements),
                  "filters": dict(self.demand.filters)}
        return {"name": self.name, "demand": demand, "max_meetings": self.max_meetings,
                "unavailable": list(self.unavailable)}


@dataclass(frozen=True)
class InstitutionEntry:
    """A member institution at the event (canonical name once resolved)."""

    name: str
    max_meetings: int
    unavailable: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "max_meetings": self.max_meetings, "unavailable": list(self.unavailable)}


@dataclass(frozen=True)
class Request:
    """The organiser's wish about one pair: ``must`` meet, or ``avoid`` meeting."""

    company: str
    institution: str
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"company": self.company, "institution": self.institution, "kind": self.kind}


@dataclass(frozen=True)
class Event:
    """A validated event. Slots are ``HH:MM`` strings in ascending order."""

    name: str
    date: str
    slots: tuple[str, ...]
    slot_minutes: int
    tables: int
    companies: tuple[CompanyEntry, ...]
    institutions: tuple[InstitutionEntry, ...]
    requests: tuple[Request, ...] = ()
    timezone: str = DEFAULT_TIMEZONE
    location: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def company(self, name: str) -> CompanyEntry:
        return next(c for c in self.companies if c.name == name)

    def institution(self, name: str) -> InstitutionEntry:
        return next(i for i in self.institutions if i.name == name)

    def end_of(self, slot: str) -> str:
        """``HH:MM`` at which a meeting starting at ``slot`` ends."""
        h, m = (int(x) for x in slot.split(":"))
        total = h * 60 + m + self.slot_minutes
        return f"{(total // 60) % 24:02d}:{total % 60:02d}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "date": self.date, "timezone": self.timezone, "location": self.location,
                "slots": list(self.slots), "slot_minutes": self.slot_minutes, "tables": self.tables,
                "companies": [c.to_dict() for c in self.companies],
                "institutions": [i.to_dict() for i in self.institutions],
                "requests": [r.to_dict() for r in self.requests]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        return parse_event(data)


def load_event(path: str | Path, registry: InstitutionRegistry | None = None) -> Event:
    """An event from a ``.json`` or ``.toml`` file; with a ``registry``, institution names are resolved."""
    path = Path(path)
    if path.suffix.lower() == ".toml":
        data: Any = read_toml(path, "event file")
    else:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise InputFileError(path, "event file does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(path, f"event file cannot be read ({exc})") from None
        except json.JSONDecodeError as exc:
            raise InputFileError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InputFileError(path, "an event file holds one object (name, date, slots, …)")
    try:
        event = parse_event(data)
        return event if registry is None else resolve_institutions(event, registry)
    except ValidationError as exc:
        raise ValidationError(f"{path}: {exc}", field=exc.field) from None


def _fail(where: str, message: str) -> ValidationError:
    return ValidationError(f"{where}: {message}", field=where)


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = True, default: str = "") -> str:
    value = data.get(key)
    if value is None and not required:
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(f"{where}{key}", f"a non-empty string is required, got {value!r}")
    return value.strip()


def _int(data: Mapping[str, Any], key: str, where: str, default: int | None, minimum: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(f"{where}{key}", f"an integer ≥ {minimum} is required, got {value!r}")
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _fail(f"{where}{key}", f"a list is required, got {value!r}")
    return value


def normalise_time(value: object) -> str | None:
    """``"9:05"`` → ``"09:05"``; ``None`` when ``value`` is not a time of day ``H:MM``/``HH:MM``."""
    match = _TIME.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    h, m = int(match.group(1)), int(match.group(2))
    return f"{h:02d}:{m:02d}" if h < 24 and m < 60 else None


def _slots(data: Mapping[str, Any]) -> tuple[str, ...]:
    raw = _list(data, "slots", "")
    if not raw:
        raise _fail("slots", "at least one slot (\"HH:MM\") is required")
    slots: list[str] = []
    for i, value in enumerate(raw):
        slot = normalise_time(value)
        if slot is None:
            raise _fail(f"slots[{i}]", f"{value!r} is not a time of day HH:MM")
        if slots and slot <= slots[-1]:
            raise _fail(f"slots[{i}]", f"{slot} does not come after {slots[-1]}: slots are listed once, in order")
        slots.append(slot)
    return tuple(slots)


def _unavailable(data: Mapping[str, Any], where: str, slots: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for i, value in enumerate(_list(data, "unavailable", where)):
        slot = normalise_time(value)
        if slot not in slots:
            shown = ", ".join(slots[:6]) + (", …" if len(slots) > 6 else "")
            raise _fail(f"{where}unavailable[{i}]", f"{json.dumps(value, ensure_ascii=False)} is not one of the "
                                                    f"event's slots {shown}")
        out.append(slot)  # type: ignore[arg-type]
    return tuple(dict.fromkeys(out))


def _demand(data: Mapping[str, Any], where: str, company: str) -> DemandProfile:
    raw = data.get("demand")
    if isinstance(raw, str):
        raw = {"text": raw}
    if not isinstance(raw, dict):
        raise _fail(f"{where}demand", f"company {company!r} needs a demand {{\"text\": …}}, got {raw!r}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _fail(f"{where}demand.text", f"company {company!r} has no demand text")
    unknown = sorted(set(raw) - set(_DEMAND_KEYS))
    if unknown:
        raise _fail(f"{where}demand", f"unknown field(s) {unknown}; valid: {', '.join(_DEMAND_KEYS)}")
    try:
        return DemandProfile.from_dict({**raw, "company": company})
    except ValidationError as exc:
        raise _fail(f"{where}demand", str(exc)) from None


def _company(data: object, i: int, slots: Sequence[str]) -> CompanyEntry:
    where = f"companies[{i}]."
    if not isinstance(data, dict):
        raise _fail(f"companies[{i}]", f"an object {{name, demand, …}} is required, got {data!r}")
    name = _text(data, "name", where)
    return CompanyEntry(name=name, demand=_demand(data, where, name),
                        max_meetings=_int(data, "max_meetings", where, len(slots), 0),
                        unavailable=_unavailable(data, where, slots))


def _institution(data: object, i: int, slots: Sequence[str]) -> InstitutionEntry:
    where = f"institutions[{i}]."
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, dict):
        raise _fail(f"institutions[{i}]", f"an object {{name, max_meetings, unavailable}} is required, got {data!r}")
    return InstitutionEntry(name=_text(data, "name", where), max_meetings=_int(data, "max_meetings", where, len(slots), 0),
                            unavailable=_unavailable(data, where, slots))


def _request(data: object, i: int, companies: Sequence[str]) -> Request:
    where = f"requests[{i}]."
    if not isinstance(data, dict):
        raise _fail(f"requests[{i}]", f"an object {{company, institution, kind}} is required, got {data!r}")
    company, institution = _text(data, "company", where), _text(data, "institution", where)
    kind = data.get("kind")
    if kind not in REQUEST_KINDS:
        raise _fail(f"{where}kind", f"{kind!r} is not a request kind; valid: {', '.join(REQUEST_KINDS)}")
    if company not in companies:
        raise _fail(f"{where}company", f"{company!r} is not one of the event's companies: {', '.join(companies)}")
    return Request(company=company, institution=institution, kind=str(kind))


def _unique(names: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise _fail(f"{what}[{i}].name", f"{name!r} is listed twice")
        seen.add(name)


def parse_event(data: Mapping[str, Any]) -> Event:
    """A validated :class:`Event` from the file's object (institution names as written)."""
    slots = _slots(data)
    date = _text(data, "date", "")
    check_iso_date("date", date)
    companies = tuple(_company(c, i, slots) for i, c in enumerate(_list(data, "companies", "")))
    institutions = tuple(_institution(x, i, slots) for i, x in enumerate(_list(data, "institutions", "")))
    if not companies:
        raise _fail("companies", "at least one company is required")
    if not institutions:
        raise _fail("institutions", "at least one institution is required")
    _unique([c.name for c in companies], "companies")
    names = [c.name for c in companies]
    requests = tuple(_request(r, i, names) for i, r in enumerate(_list(data, "requests", "")))
    known = {"name", "date", "slots", "slot_minutes", "tables", "companies", "institutions", "requests",
             "timezone", "location"}
    return Event(name=_text(data, "name", ""), date=date, slots=slots,
                 slot_minutes=_int(data, "slot_minutes", "", None, 1), tables=_int(data, "tables", "", None, 1),
                 companies=companies, institutions=institutions, requests=requests,
                 timezone=_text(data, "timezone", "", required=False, default=DEFAULT_TIMEZONE),
                 location=_text(data, "location", "", required=False),
                 extra={k: v for k, v in data.items() if k not in known})


def resolve_institutions(event: Event, registry: InstitutionRegistry) -> Event:
    """The event with every institution name (entries and requests) replaced by its canonical name;
    an unknown name is refused naming the entry and listing the known institutions."""
    institutions = []
    for i, entry in enumerate(event.institutions):
        try:
            canonical = registry.resolve(entry.name, field=f"institutions[{i}].name")
        except ValidationError as exc:
            raise _fail(f"institutions[{i}].name", str(exc)) from None
        institutions.append(replace(entry, name=canonical))
    _unique([x.name for x in institutions], "institutions")
    listed = [x.name for x in institutions]
    requests = []
    for i, req in enumerate(event.requests):
        canonical = registry.canonical(req.institution)
        if canonical not in listed:
            raise _fail(f"requests[{i}].institution", f"{req.institution!r} is not one of the event's institutions: "
                                                      f"{', '.join(listed)}")
        requests.append(replace(req, institution=canonical))
        kinds = {r.kind for r in requests if (r.company, r.institution) == (req.company, canonical)}
        if len(kinds) > 1:
            raise _fail(f"requests[{i}]", f"{req.company!r} and {canonical!r} are both 'must' and 'avoid'")
    return replace(event, institutions=tuple(institutions), requests=tuple(requests))
