"""The baseline: greedy first-fit by score on the same problem (``problem.candidate_order``: pinned
meetings first at their published slot, then must-requests, then by score), each candidate at the first
slot where it fits every hard constraint. Its objective is reported beside the solver's and seeds the
solver's search as a hint. ``tiered=True`` is the hint the solver gets: the same first fit in two passes, the first
placing only a company's first meeting (so every company that can meet does, as the objective's tiers ask),
the second filling the rest by score."""

from __future__ import annotations

from collections import Counter, defaultdict

from matcher.meetings.problem import Party, Problem, candidate_order, parties_of


def greedy_assignment(problem: Problem, *, tiered: bool = False) -> dict[int, str]:
    """Candidate index → slot, first fit in :func:`candidate_order` (``tiered``: companies' first meetings
    in a pass of their own first)."""
    state = _FirstFit(problem)
    order = candidate_order(problem)
    if tiered:
        for i in order:
            c = problem.candidates[i]
            if i in problem.pins or c.must or state.used[("company", c.company)] == 0:
                state.place(i)
    for i in order:
        if i not in state.out:
            state.place(i)
    return state.out


class _FirstFit:
    """The greedy's bookkeeping: who is busy in which slot, meetings per party, pairs met, tables used."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.busy: dict[str, set[Party]] = defaultdict(set)
        self.used: Counter[Party] = Counter()
        self.per_slot: Counter[str] = Counter()
        self.pairs: set[tuple[str, str]] = set()
        self.out: dict[int, str] = {}

    def place(self, i: int) -> None:
        """Put candidate ``i`` at its first feasible slot (its pinned slot first), if any."""
        problem, c = self.problem, self.problem.candidates[i]
        parties = parties_of(c)
        if any((c.company, x) in self.pairs for x in c.institutions):
            return
        if any(self.used[p] >= problem.limits[p][0] for p in parties):
            return
        slots = list(problem.allowed_slots(i))
        pinned = problem.pins.get(i)
        if pinned in slots:
            slots.remove(pinned)
            slots.insert(0, pinned)
        for slot in slots:
            if self.per_slot[slot] < problem.event.tables and not any(p in self.busy[slot] for p in parties):
                self.out[i] = slot
                self.busy[slot].update(parties)
                self.used.update(parties)
                self.per_slot[slot] += 1
                self.pairs.update((c.company, x) for x in c.institutions)
                return
