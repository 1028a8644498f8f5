"""From an event to a plan: candidates (``candidates.py``) → the problem (``problem.py``, published
meetings pinned) → the greedy baseline (``greedy.py``) → CP-SAT (``solver.py``) → table numbers → the
typed plan (``plan.py``) with the reason for every company or must-request left out.

Never raises on an infeasible or over-constrained event: what cannot be scheduled is listed in
``unscheduled`` with its reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from matcher.access import Viewer
from matcher.matching.tablecache import TableCachingMatcher
from matcher.meetings.candidates import NO_MATCH, ORGANISER, Candidate, CandidateSet, build_candidates
from matcher.meetings.event import Event
from matcher.meetings.greedy import greedy_assignment
from matcher.meetings.plan import Change, Meeting, Plan, SolverInfo, Unscheduled
from matcher.meetings.problem import Problem, evaluate
from matcher.meetings.solver import DEFAULT_SETTINGS, SolverSettings, solve
from matcher.store.versions import IndexVersion


@dataclass(frozen=True)
class Pinned:
    """The problem's candidates with the published meetings mapped onto them: ``pins`` (candidate index →
    published slot) and ``tables`` (candidate index → published table)."""

    candidates: tuple[Candidate, ...]
    pins: dict[int, str]
    tables: dict[int, int]


def plan_event(event: Event, version: IndexVersion, *, settings: SolverSettings = DEFAULT_SETTINGS,
               pin: Plan | None = None, viewer: Viewer = ORGANISER,
               matcher: TableCachingMatcher | None = None, created: str | None = None) -> Plan:
    """The plan of ``event`` (institutions canonical) over ``version``, as ``viewer`` may see it."""
    found = build_candidates(event, version, viewer=viewer, matcher=matcher)
    return plan_candidates(event, found, index_version=version.name, settings=settings, pin=pin, created=created)


def plan_candidates(event: Event, found: CandidateSet, *, index_version: str,
                    settings: SolverSettings = DEFAULT_SETTINGS, pin: Plan | None = None,
                    created: str | None = None) -> Plan:
    """The plan over given candidates (the engine-free half of :func:`plan_event`)."""
    pinned = pin_meetings(event, found.candidates, pin.meetings if pin else ())
    problem = Problem(event, pinned.candidates, pinned.pins)
    baseline = greedy_assignment(problem)
    tiered = greedy_assignment(problem, tiered=True)
    start = max((baseline, tiered), key=lambda a: evaluate(problem, a).weighted)
    solution = solve(problem, settings, hint=start)
    assignment, status = solution.assignment, solution.status
    if status not in ("OPTIMAL", "FEASIBLE") or evaluate(problem, assignment).weighted < evaluate(problem, start).weighted:
        assignment, status = start, f"{status} (greedy start kept)"
    meetings = _meetings(event, problem, assignment, assign_tables(event, assignment, pinned.tables))
    changes = _changes(pin.meetings, meetings) if pin else ()
    return Plan(
        event=event, index_version=index_version,
        created=created or datetime.now(UTC).replace(microsecond=0).isoformat(),
        meetings=meetings, unscheduled=unscheduled(problem, found, assignment),
        objective=evaluate(problem, assignment), baseline_objective=evaluate(problem, baseline),
        solver=SolverInfo(name="cp-sat", status=status, seconds=solution.seconds, time_limit=settings.time_limit,
                          seed=settings.seed, workers=settings.workers),
        moved=len(changes) if pin else None, kept=len(pin.meetings) - len(changes) if pin else None,
        changes=tuple(changes))


def pin_meetings(event: Event, candidates: Sequence[Candidate], published: Sequence[Meeting]) -> Pinned:
    """Published meetings whose parties are still at the event become pins on their candidate (a candidate
    rebuilt from the meeting when the engine no longer proposes it, unless the pair is now avoided)."""
    out = list(candidates)
    index = {c.key: n for n, c in enumerate(out)}
    companies = {c.name for c in event.companies}
    institutions = {i.name for i in event.institutions}
    avoid = {(r.company, r.institution) for r in event.requests if r.kind == "avoid"}
    pins: dict[int, str] = {}
    tables: dict[int, int] = {}
    for m in published:
        key = (m.company, tuple(sorted(m.institutions)))
        if m.company not in companies or not set(m.institutions) <= institutions:
            continue
        if any((m.company, i) in avoid for i in m.institutions):
            continue
        if key not in index:
            index[key] = len(out)
            out.append(Candidate(m.company, key[1], m.kind, m.technologies, m.score, m.evidence, m.must,
                                 m.note or "kept from the published plan"))
        if m.slot in event.slots:
            pins[index[key]] = m.slot
            tables[index[key]] = m.table
    return Pinned(tuple(out), pins, tables)


def assign_tables(event: Event, assignment: Mapping[int, str], published: Mapping[int, int]) -> dict[int, int]:
    """Table numbers 1..tables per slot: a pinned meeting keeps its published table when it is still free
    and within range; the others take the lowest free tables in candidate order."""
    by_slot: dict[str, list[int]] = defaultdict(list)
    for i, slot in assignment.items():
        by_slot[slot].append(i)
    out: dict[int, int] = {}
    for items in by_slot.values():
        taken: set[int] = set()
        for i in sorted(items):
            table = published.get(i)
            if table is not None and 1 <= table <= event.tables and table not in taken:
                out[i] = table
                taken.add(table)
        free = (t for t in range(1, event.tables + 1) if t not in taken)
        for i in sorted(i for i in items if i not in out):
            out[i] = next(free)
    return out


def _meetings(event: Event, problem: Problem, assignment: Mapping[int, str],
              tables: Mapping[int, int]) -> tuple[Meeting, ...]:
    order = sorted(assignment, key=lambda i: (assignment[i], tables[i]))
    out = []
    for n, i in enumerate(order, 1):
        c, slot = problem.candidates[i], assignment[i]
        out.append(Meeting(id=f"M{n:03d}", slot=slot, end=event.end_of(slot), table=tables[i], company=c.company,
                           institutions=c.institutions, kind=c.kind, technologies=c.technologies, score=c.score,
                           evidence=c.evidence, must=c.must, note=c.note))
    return tuple(out)


def _changes(published: Sequence[Meeting], meetings: Sequence[Meeting]) -> list[Change]:
    now = {m.parties: m for m in meetings}
    out = []
    for old in published:
        new = now.get(old.parties)
        if new is not None and (new.slot, new.table) == (old.slot, old.table):
            continue
        out.append(Change(id=old.id, company=old.company, institutions=old.institutions,
                          before=(old.slot, old.table), after=None if new is None else (new.slot, new.table)))
    return out


def _company_reason(problem: Problem, found: CandidateSet, company: str) -> str:
    entry = problem.event.company(company)
    own = [n for n, c in enumerate(problem.candidates) if c.company == company]
    if entry.max_meetings == 0:
        return "max_meetings is 0 for this company"
    if set(problem.event.slots) <= set(entry.unavailable):
        return "every slot of the event is unavailable for this company"
    if not own:
        return found.notes.get(company, NO_MATCH)
    if not any(problem.allowed_slots(n) for n in own):
        return ("no slot where the company and a matching institution are both available "
                "(or those institutions take no meetings)")
    return ("no free slot or table left with a matching institution: their meetings (max_meetings), slots or "
            "the tables went to other companies")


def _must_reason(problem: Problem, company: str, institution: str) -> str:
    own = [n for n, c in enumerate(problem.candidates) if c.company == company and institution in c.institutions]
    if not any(problem.allowed_slots(n) for n in own):
        return (f"must-request: {company} and {institution} have no slot where both are available "
                "(or one of them takes no meetings)")
    return (f"must-request: {company} and {institution} could not meet without breaking another constraint "
            "(max_meetings, tables, or other must-requests)")


def unscheduled(problem: Problem, found: CandidateSet, assignment: Mapping[int, str]) -> tuple[Unscheduled, ...]:
    """Companies without any meeting, then must-requests not met, each with its reason."""
    chosen = [problem.candidates[i] for i in assignment]
    met = {c.company for c in chosen}
    pairs = {(c.company, i) for c in chosen for i in c.institutions}
    out = [Unscheduled(c.name, _company_reason(problem, found, c.name)) for c in problem.event.companies
           if c.name not in met]
    out += [Unscheduled(company, _must_reason(problem, company, inst), inst) for company, inst in problem.musts
            if (company, inst) not in pairs]
    return tuple(out)
