"""Recovery check of the meeting planner on real data: companies whose demand is the text of a known patent —
how often does the plan seat them with that patent's owner?

    HF_HUB_OFFLINE=1 .venv/bin/python bench/meetings_recovery.py --index /work/scratch/real/index [--per 15] [--json]

The index is one built from ``../shared/data`` (``matcher ingest`` + ``matcher build``; see bench/README.md).
Method: the institutions owning at least ``--min-owned`` live technologies attend (each free in every slot);
``--per`` live technologies of each, chosen deterministically (smallest SHA-256 of the id), become one
company each whose demand is the technology's title and abstract. The event is planned twice: with every
company limited to one meeting (the owner must be *the* meeting) and to two. Reported: the share of companies
that meet the owner (alone or in a bundle meeting) under the CP-SAT plan and under the greedy baseline, the
share whose engine-recommended first institution is the owner, and the chance level (1 / institutions with a
candidate meeting for that company). The patent itself is in the index, so this is a sanity check of the
chain demand → candidates → schedule, not a retrieval benchmark (``docs/quality.md`` has those).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.meetings.candidates import build_candidates  # noqa: E402
from matcher.meetings.event import parse_event  # noqa: E402
from matcher.meetings.greedy import greedy_assignment  # noqa: E402
from matcher.meetings.problem import Problem  # noqa: E402
from matcher.meetings.schedule import plan_candidates  # noqa: E402
from matcher.meetings.solver import SolverSettings  # noqa: E402
from matcher.search import open_index  # noqa: E402

SLOTS = [f"{9 + k // 2:02d}:{(k % 2) * 30:02d}" for k in range(16)]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def choose(version, min_owned: int, per: int) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The attending institutions and (company, owner, demand text) triples."""
    live = [t for t in version.technologies if t.active and len(t.institutions) == 1]
    owned = Counter(t.institutions[0] for t in live)
    attending = sorted(name for name, n in owned.items() if n >= min_owned)
    picks: list[tuple[str, str, str]] = []
    for name in attending:
        mine = sorted((t for t in live if t.institutions[0] == name), key=lambda t: _digest(t.id))[:per]
        picks += [(f"수요기업-{t.id}", name, f"{t.title}. {t.abstract}".strip()) for t in mine]
    return attending, picks


def event_dict(attending: list[str], picks: list[tuple[str, str, str]], max_meetings: int) -> dict:
    return {"name": "recovery check (real KIPRIS patents as demands)", "date": "2026-12-01", "slots": SLOTS,
            "slot_minutes": 30, "tables": 20,
            "companies": [{"name": c, "demand": {"text": text}, "max_meetings": max_meetings} for c, _, text in picks],
            "institutions": [{"name": name, "max_meetings": len(SLOTS)} for name in attending], "requests": []}


def recovery(assignment, problem: Problem, owner_of: dict[str, str]) -> float:
    met = {(problem.candidates[i].company, inst) for i in assignment for inst in problem.candidates[i].institutions}
    return sum((c, o) in met for c, o in owner_of.items()) / len(owner_of)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--per", type=int, default=15)
    parser.add_argument("--min-owned", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    version = open_index(args.index)
    attending, picks = choose(version, args.min_owned, args.per)
    owner_of = {c: o for c, o, _ in picks}
    rows = []
    for max_meetings in (1, 2):
        event = parse_event(event_dict(attending, picks, max_meetings))
        t0 = time.perf_counter()
        found = build_candidates(event, version)
        engine_s = time.perf_counter() - t0
        plan = plan_candidates(event, found, index_version=version.name,
                               settings=SolverSettings(time_limit=args.time_limit))
        problem = Problem(event, found.candidates, {})
        seated = {(m.company, inst) for m in plan.meetings for inst in m.institutions}
        options = Counter(c.company for c in found.candidates if len(c.institutions) == 1)
        rows.append({
            "max_meetings": max_meetings, "companies": len(picks), "institutions": len(attending),
            "met_owner_cpsat": round(sum((c, o) in seated for c, o in owner_of.items()) / len(picks), 3),
            "met_owner_greedy": round(recovery(greedy_assignment(problem), problem, owner_of), 3),
            "owner_recommended_first": round(sum(found.recommended.get(c, ("",))[:1] == (o,)
                                                 for c, o in owner_of.items()) / len(picks), 3),
            "chance": round(sum(min(max_meetings, options[c]) / max(options[c], 1) for c in owner_of) / len(picks), 3),
            "companies_met": round(len({m.company for m in plan.meetings}) / len(picks), 3),
            "bundle_meetings": sum(m.kind == "bundle" for m in plan.meetings),
            "solver": plan.solver.status, "solve_s": round(plan.solver.seconds, 1), "engine_s": round(engine_s, 1)})
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "index_version": version.name, "institutions": attending, "rows": rows}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    print(f"{result['date']} · {result['machine']} · {len(picks)} companies × {len(attending)} institutions")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
