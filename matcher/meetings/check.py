"""``check_plan``: every rule a plan must keep, checked on the plan itself (used by the tests on every
solved plan, and usable on a plan file edited by hand). Returns the broken rules in words; empty = valid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from matcher.meetings.candidates import Candidate
from matcher.meetings.event import Event
from matcher.meetings.plan import MEETING_KINDS, Meeting, Plan
from matcher.meetings.problem import Problem, violations


def _meeting_rules(event: Event, m: Meeting) -> list[str]:
    out = []
    if m.slot not in event.slots:
        out.append(f"{m.id}: slot {m.slot} is not one of the event's slots")
    elif m.end != event.end_of(m.slot):
        out.append(f"{m.id}: ends {m.end}, expected {event.end_of(m.slot)}")
    if not 1 <= m.table <= event.tables:
        out.append(f"{m.id}: table {m.table} outside 1..{event.tables}")
    if m.kind not in MEETING_KINDS:
        out.append(f"{m.id}: kind {m.kind!r} not one of {MEETING_KINDS}")
    if m.kind == "bundle" and not 2 <= len(m.institutions) <= 3:
        out.append(f"{m.id}: a bundle meeting with {len(m.institutions)} institution(s)")
    if m.kind == "single" and len(m.institutions) != 1:
        out.append(f"{m.id}: a single meeting with {len(m.institutions)} institutions")
    return out


def check_plan(event: Event, candidates: Sequence[Candidate], plan: Plan) -> list[str]:
    """Broken rules of ``plan`` for ``event`` over ``candidates`` (see ``problem.py`` for the hard ones)."""
    out: list[str] = []
    index = {c.key: n for n, c in enumerate(candidates)}
    assignment: dict[int, str] = {}
    for n, m in enumerate(plan.meetings, 1):
        if m.id != f"M{n:03d}":
            out.append(f"meeting {n} has id {m.id}, expected M{n:03d}")
        out.extend(_meeting_rules(event, m))
        key = (m.company, tuple(sorted(m.institutions)))
        if key not in index:
            out.append(f"{m.id}: {m.company} / {', '.join(m.institutions)} is not a candidate meeting")
            continue
        if index[key] in assignment:
            out.append(f"{m.id}: the candidate {key} is scheduled twice")
        assignment[index[key]] = m.slot
        if tuple(m.technologies) != candidates[index[key]].technologies:
            out.append(f"{m.id}: technologies differ from the candidate's")
    out.extend(f"{s}/table {t}: {n} meetings" for (s, t), n in Counter((m.slot, m.table) for m in plan.meetings).items()
               if n > 1)
    out.extend(violations(Problem(event, tuple(candidates)), assignment))
    avoid = {(r.company, r.institution) for r in event.requests if r.kind == "avoid"}
    out.extend(f"{m.id}: {m.company} meets {i} against an avoid request" for m in plan.meetings
               for i in m.institutions if (m.company, i) in avoid)
    pairs = {(m.company, i) for m in plan.meetings for i in m.institutions}
    left = {(u.company, u.institution) for u in plan.unscheduled}
    out.extend(f"must-request {c} / {i} neither met nor listed as unscheduled" for r in event.requests
               if r.kind == "must" and (c := r.company, i := r.institution) not in pairs and (c, i) not in left)
    met = {m.company for m in plan.meetings}
    out.extend(f"{c.name}: no meeting and not listed as unscheduled" for c in event.companies
               if c.name not in met and (c.name, None) not in left)
    return out
