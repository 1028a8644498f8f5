"""The baseline: greedy first-fit by score on the same problem (``problem.candidate_order``: pinned
meetings first at their published slot, then must-requests, then by score), each candidate at the first
slot where it fits every hard constraint. Its objective is reported beside the solver's and seeds the
solver's search as a hint."""

from __future__ import annotations

from collections import Counter, defaultdict

from matcher.meetings.problem import Party, Problem, candidate_order, parties_of


def greedy_assignment(problem: Problem) -> dict[int, str]:
    """Candidate index → slot, first fit in :func:`candidate_order`."""
    busy: dict[str, set[Party]] = defaultdict(set)
    used: Counter[Party] = Counter()
    per_slot: Counter[str] = Counter()
    pairs: set[tuple[str, str]] = set()
    out: dict[int, str] = {}
    for i in candidate_order(problem):
        c = problem.candidates[i]
        parties = parties_of(c)
        if any((c.company, x) in pairs for x in c.institutions):
            continue
        if any(used[p] >= problem.limits[p][0] for p in parties):
            continue
        slots = list(problem.allowed_slots(i))
        pinned = problem.pins.get(i)
        if pinned in slots:
            slots.remove(pinned)
            slots.insert(0, pinned)
        for slot in slots:
            if per_slot[slot] < problem.event.tables and not any(p in busy[slot] for p in parties):
                out[i] = slot
                busy[slot].update(parties)
                used.update(parties)
                per_slot[slot] += 1
                pairs.update((c.company, x) for x in c.institutions)
                break
    return out
