"""Timing of the meeting schedule at event scale — synthetic, for timing only (never quality claims).

    .venv/bin/python bench/meetings.py [--companies 200] [--institutions 33] [--slots 16] [--tables 20]
                                       [--time-limit 40] [--workers 2] [--seed 0]

An event of N companies × M institutions × S slots × T tables is built deterministically
(``random.Random(seed)``) in the shapes of the demo corpus: each company's candidate institutions are a
field's (5 fields, as in ``corpora/demo``) 3–12 institutions with scores spread like calibrated relevance
(0.3–0.9, a few strong), 0–2 bundle candidates of 2–3 of them scoring above the best single, companies
taking 3–6 meetings and missing 0–3 slots, institutions taking up to S meetings and missing 0–2 slots, 5 %
must-requests and 2 % avoid-requests. The engine is not involved (``plan_candidates``). Reported: CP-SAT
status and seconds, objective vs the greedy baseline, share of companies with ≥ 1 meeting, share of each
company's top-3 recommended institutions it meets.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.meetings.candidates import Candidate, CandidateSet, apply_requests  # noqa: E402
from matcher.meetings.event import Event, parse_event  # noqa: E402
from matcher.meetings.schedule import plan_candidates  # noqa: E402
from matcher.meetings.solver import SolverSettings  # noqa: E402

FIELDS = 5


def synthetic_event(n_c: int, n_i: int, n_s: int, tables: int, seed: int) -> tuple[Event, list[Candidate]]:
    rng = random.Random(seed)
    slots = [f"{9 + (k * 30) // 60:02d}:{(k * 30) % 60:02d}" for k in range(n_s)]
    insts = [f"합성기관{k:02d}" for k in range(n_i)]
    field_of = {name: k % FIELDS for k, name in enumerate(insts)}
    companies, cands, requests = [], [], []
    for c in range(n_c):
        name = f"합성기업{c:03d}"
        fld = rng.randrange(FIELDS)
        pool = [i for i in insts if field_of[i] == fld] + rng.sample(insts, 3)
        chosen = sorted(set(rng.sample(pool, min(len(pool), rng.randint(3, 12)))))
        scores = {i: round(min(0.95, 0.3 + rng.betavariate(2, 4)), 3) for i in chosen}
        cands += [Candidate(name, (i,), "single", (f"T-{i}-{c}",), s) for i, s in scores.items()]
        for _ in range(rng.randint(0, 2)):
            members = tuple(sorted(rng.sample(chosen, rng.choice((2, 3)) if len(chosen) >= 3 else 2)))
            best = max(scores[i] for i in members)
            cands.append(Candidate(name, members, "bundle", tuple(f"T-{i}-{c}" for i in members),
                                   round(min(1.0, best + 0.05 + 0.1 * rng.random()), 3)))
        companies.append({"name": name, "demand": {"text": f"synthetic demand {c}"},
                          "max_meetings": rng.randint(3, 6), "unavailable": rng.sample(slots, rng.randint(0, 3))})
        if rng.random() < 0.05:
            requests.append({"company": name, "institution": rng.choice(chosen), "kind": "must"})
        elif rng.random() < 0.02:
            requests.append({"company": name, "institution": rng.choice(insts), "kind": "avoid"})
    data = {"name": "synthetic", "date": "2026-05-20", "slots": slots, "slot_minutes": 25, "tables": tables,
            "companies": companies, "requests": requests,
            "institutions": [{"name": i, "max_meetings": n_s, "unavailable": rng.sample(slots, rng.randint(0, 2))}
                             for i in insts]}
    unique = {c.key: c for c in cands}
    return parse_event(data), list(unique.values())


def top3_share(found: CandidateSet, plan_meetings: list) -> float:
    met = {(m.company, i) for m in plan_meetings for i in m.institutions}
    wanted = [(c, i) for c, insts in found.recommended.items() for i in insts[:3]]
    return sum(1 for w in wanted if w in met) / max(1, len(wanted))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--companies", type=int, default=200)
    ap.add_argument("--institutions", type=int, default=33)
    ap.add_argument("--slots", type=int, default=16)
    ap.add_argument("--tables", type=int, default=20)
    ap.add_argument("--time-limit", type=float, default=40.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    event, cands = synthetic_event(args.companies, args.institutions, args.slots, args.tables, args.seed)
    found = apply_requests(event, cands)
    recommended = {}
    for c in event.companies:
        singles = sorted((x for x in found.candidates if x.company == c.name and x.kind == "single"),
                         key=lambda x: (-x.score, x.institutions))
        recommended[c.name] = tuple(x.institutions[0] for x in singles)
    found = CandidateSet(found.candidates, recommended, found.notes)
    started = time.perf_counter()
    plan = plan_candidates(event, found, index_version="synthetic",
                           settings=SolverSettings(time_limit=args.time_limit, seed=args.seed, workers=args.workers))
    wall = time.perf_counter() - started
    report = {
        "event": f"{args.companies} companies × {args.institutions} institutions × {args.slots} slots × "
                 f"{args.tables} tables", "candidates": len(found.candidates),
        "solver": plan.solver.to_dict(), "wall_seconds": round(wall, 2),
        "objective": plan.objective.to_dict(), "baseline_objective": plan.baseline_objective.to_dict(),
        "companies_with_a_meeting": round(plan.objective.companies_met / len(event.companies), 3),
        "top3_met": round(top3_share(found, list(plan.meetings)), 3),
        "bundle_meetings": sum(1 for m in plan.meetings if m.kind == "bundle"),
        "unscheduled": len(plan.unscheduled), "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
