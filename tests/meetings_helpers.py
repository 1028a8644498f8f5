"""Helpers of the meeting-schedule tests: small events and candidates built in code, and a brute-force
optimum of the same objective (``matcher/meetings/problem.py``)."""

from __future__ import annotations

import random
from typing import Any

from matcher.meetings.candidates import Candidate, CandidateSet, apply_requests
from matcher.meetings.event import Event, parse_event
from matcher.meetings.problem import Problem, evaluate, parties_of

SLOTS = ["09:00", "09:30", "10:00", "10:30"]


def event_data(companies: int = 3, institutions: int = 3, slots: int = 3, tables: int = 2,
               **extra: Any) -> dict[str, Any]:
    return {"name": "test day", "date": "2026-05-20", "slots": SLOTS[:slots], "slot_minutes": 25, "tables": tables,
            "companies": [{"name": f"C{k}", "demand": {"text": f"demand of C{k}"}} for k in range(companies)],
            "institutions": [{"name": f"I{k}"} for k in range(institutions)], **extra}


def candidate(company: str, *institutions: str, score: float = 0.5) -> Candidate:
    kind = "bundle" if len(institutions) > 1 else "single"
    techs = tuple(f"T-{i}-{company}" for i in institutions)
    return Candidate(company, tuple(sorted(institutions)), kind, techs, score)


def random_case(seed: int) -> tuple[Event, CandidateSet]:
    """A small random event (≤ 3 slots, ≤ 2 tables) with ≤ 7 candidates, some unavailability, limits,
    bundles and requests."""
    rng = random.Random(seed)
    n_c, n_i, n_s = rng.randint(2, 4), rng.randint(2, 3), rng.randint(1, 3)
    data = event_data(n_c, n_i, n_s, rng.randint(1, 2))
    slots = data["slots"]
    for entry in data["companies"] + data["institutions"]:
        entry["max_meetings"] = rng.randint(0 if rng.random() < 0.1 else 1, 3)
        entry["unavailable"] = [s for s in slots if rng.random() < 0.25]
    names = [f"I{k}" for k in range(n_i)]
    cands: dict[tuple[str, tuple[str, ...]], Candidate] = {}
    for _ in range(rng.randint(2, 7)):
        company = f"C{rng.randrange(n_c)}"
        insts = rng.sample(names, 2 if rng.random() < 0.25 else 1)
        c = candidate(company, *insts, score=round(rng.random(), 3))
        cands.setdefault(c.key, c)
    requests = []
    if rng.random() < 0.5:
        requests.append({"company": f"C{rng.randrange(n_c)}", "institution": rng.choice(names), "kind": "must"})
    if rng.random() < 0.3:
        pair = {"company": f"C{rng.randrange(n_c)}", "institution": rng.choice(names), "kind": "avoid"}
        if all((r["company"], r["institution"]) != (pair["company"], pair["institution"]) for r in requests):
            requests.append(pair)
    data["requests"] = requests
    event = parse_event(data)
    return event, apply_requests(event, list(cands.values()))


def brute_force(problem: Problem) -> int:
    """The best ``weighted`` objective over every feasible assignment (backtracking)."""
    n = len(problem.candidates)
    best = [evaluate(problem, {}).weighted]
    busy: set[tuple[str, tuple[str, str]]] = set()
    used: dict[tuple[str, str], int] = {}
    per_slot: dict[str, int] = {}
    pairs: set[tuple[str, str]] = set()
    chosen: dict[int, str] = {}

    def go(i: int) -> None:
        if i == n:
            best[0] = max(best[0], evaluate(problem, chosen).weighted)
            return
        go(i + 1)
        c = problem.candidates[i]
        parties = parties_of(c)
        mine = {(c.company, x) for x in c.institutions}
        if mine & pairs or any(used.get(p, 0) >= problem.limits[p][0] for p in parties):
            return
        for s in problem.allowed_slots(i):
            if per_slot.get(s, 0) >= problem.event.tables or any((s, p) in busy for p in parties):
                continue
            chosen[i] = s
            busy.update((s, p) for p in parties)
            pairs.update(mine)
            per_slot[s] = per_slot.get(s, 0) + 1
            for p in parties:
                used[p] = used.get(p, 0) + 1
            go(i + 1)
            for p in parties:
                used[p] -= 1
            per_slot[s] -= 1
            pairs.difference_update(mine)
            busy.difference_update((s, p) for p in parties)
            del chosen[i]

    go(0)
    return best[0]
