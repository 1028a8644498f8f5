"""The scheduling problem shared by the CP-SAT model, the greedy baseline, the checks and the tests:
candidates, where each may go, the hard constraints and the objective.

Hard constraints of an assignment (candidate index → slot):

* a candidate only at a slot where all its parties are available;
* nobody (company or institution) in two meetings of one slot;
* every party at most ``max_meetings`` meetings;
* at most ``tables`` meetings per slot;
* a company meets an institution at most once (a single and a bundle meeting holding the same pair
  are exclusive); ``avoid`` pairs are not candidates at all (``candidates.py``).

Objective, lexicographic, as one integer (each tier's weight exceeds everything the tiers below can add)::

    weighted = W_pin · pins kept + W_must · musts met + W_company · companies with ≥1 meeting + value
    value    = Σ candidate.value (integer-scaled score)
    W_company = V + 1,  W_must = C · W_company + V + 1,  W_pin = M · W_must + C · W_company + V + 1

with ``V`` the sum of every candidate's value (an upper bound of ``value``), ``C`` companies, ``M`` musts.
A pin (a published meeting, ``--pin``) is kept when its candidate sits at its published slot.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from matcher.meetings.candidates import Candidate
from matcher.meetings.event import Event
from matcher.meetings.plan import Objective

Party = tuple[str, str]  # ("company" | "institution", name)
Assignment = Mapping[int, str]  # candidate index → slot


def parties_of(candidate: Candidate) -> tuple[Party, ...]:
    return (("company", candidate.company), *(("institution", i) for i in candidate.institutions))


@dataclass(frozen=True)
class Problem:
    """An event's candidates and the published slots to keep (``pins``: candidate index → slot)."""

    event: Event
    candidates: tuple[Candidate, ...]
    pins: Mapping[int, str] = field(default_factory=dict)

    @cached_property
    def limits(self) -> dict[Party, tuple[int, frozenset[str]]]:
        """Each party's (max meetings, unavailable slots)."""
        out: dict[Party, tuple[int, frozenset[str]]] = {}
        for c in self.event.companies:
            out[("company", c.name)] = (c.max_meetings, frozenset(c.unavailable))
        for i in self.event.institutions:
            out[("institution", i.name)] = (i.max_meetings, frozenset(i.unavailable))
        return out

    def allowed_slots(self, index: int) -> tuple[str, ...]:
        """Slots where every party of candidate ``index`` is available (and may meet at all)."""
        limits = [self.limits[p] for p in parties_of(self.candidates[index])]
        if any(m == 0 for m, _ in limits):
            return ()
        return tuple(s for s in self.event.slots if not any(s in off for _, off in limits))

    @cached_property
    def musts(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted({(r.company, r.institution) for r in self.event.requests if r.kind == "must"}))

    @cached_property
    def weights(self) -> tuple[int, int, int]:
        """(W_pin, W_must, W_company) — see the module docstring."""
        bound = sum(c.value for c in self.candidates)
        n_comp, n_must = len(self.event.companies), len(self.musts)
        w_company = bound + 1
        w_must = n_comp * w_company + bound + 1
        w_pin = n_must * w_must + n_comp * w_company + bound + 1
        return w_pin, w_must, w_company


def evaluate(problem: Problem, assignment: Assignment) -> Objective:
    """The objective of an assignment (the same function for CP-SAT, greedy and brute force)."""
    chosen = [problem.candidates[i] for i in assignment]
    pairs = {(c.company, i) for c in chosen for i in c.institutions}
    pins = sum(1 for i, s in problem.pins.items() if assignment.get(i) == s)
    musts = sum(1 for m in problem.musts if m in pairs)
    companies = len({c.company for c in chosen})
    value = sum(c.value for c in chosen)
    w_pin, w_must, w_company = problem.weights
    return Objective(pins_kept=pins, musts_met=musts, companies_met=companies, meetings=len(chosen), value=value,
                     total_score=sum(c.score for c in chosen),
                     weighted=w_pin * pins + w_must * musts + w_company * companies + value)


def violations(problem: Problem, assignment: Assignment) -> list[str]:
    """Every hard constraint the assignment breaks, in words (empty: feasible)."""
    out: list[str] = []
    per_slot: dict[str, list[int]] = defaultdict(list)
    meetings: Counter[Party] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for i, slot in assignment.items():
        c = problem.candidates[i]
        if slot not in problem.allowed_slots(i):
            out.append(f"{c.company} / {', '.join(c.institutions)} at {slot}: a party is unavailable then")
        per_slot[slot].append(i)
        meetings.update(parties_of(c))
        pairs.update((c.company, x) for x in c.institutions)
    for slot, items in sorted(per_slot.items()):
        if len(items) > problem.event.tables:
            out.append(f"{slot}: {len(items)} meetings for {problem.event.tables} tables")
        busy = Counter(p for i in items for p in parties_of(problem.candidates[i]))
        out.extend(f"{slot}: {name} is in {n} meetings" for (_, name), n in sorted(busy.items()) if n > 1)
    for party, n in sorted(meetings.items()):
        if n > problem.limits[party][0]:
            out.append(f"{party[1]}: {n} meetings, max_meetings {problem.limits[party][0]}")
    out.extend(f"{a} meets {b} {n} times" for (a, b), n in sorted(pairs.items()) if n > 1)
    return out


def candidate_order(problem: Problem) -> list[int]:
    """Candidates in the baseline's order: pinned first, then musts, then by score (ties by name)."""
    cands: Sequence[Candidate] = problem.candidates
    return sorted(range(len(cands)), key=lambda i: (i not in problem.pins, not cands[i].must, -cands[i].value,
                                                     cands[i].company, cands[i].institutions))
