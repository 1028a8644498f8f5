"""``matcher meetings plan``: who should meet whom at a matchmaking event, and when (``matcher/meetings/``).

Registered on the ``matcher`` parser by :func:`add_meetings_commands`. A bad event file, an unknown
institution or a bad pin plan exits 2 with a one-line reason naming the entry; an over-constrained event
is not an error: the plan lists what it could not schedule, with reasons.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from matcher.cli_packets import add_packets_parser

if TYPE_CHECKING:
    from matcher.meetings.plan import Plan

Emit = Callable[[Any, bool, str], None]


def _text(plan: Plan) -> str:
    lines = [f"{plan.event.name} {plan.event.date}: {len(plan.meetings)} meetings, "
             f"{plan.objective.companies_met}/{len(plan.event.companies)} companies met "
             f"(baseline {plan.baseline_objective.companies_met}); score {plan.objective.total_score:.2f} "
             f"(baseline {plan.baseline_objective.total_score:.2f}); cp-sat {plan.solver.status} "
             f"in {plan.solver.seconds:.1f}s"]
    for m in plan.meetings:
        lines.append(f"{m.id} {m.slot}-{m.end} T{m.table:<3} {m.company} ↔ {' + '.join(m.institutions)}  "
                     f"[{m.kind}, {m.score:.2f}] {', '.join(m.technologies)}")
    lines += [f"unscheduled: {u.company}{' / ' + u.institution if u.institution else ''}: {u.reason}"
              for u in plan.unscheduled]
    if plan.moved is not None:
        lines.append(f"published meetings kept: {plan.kept}, moved or dropped: {plan.moved}")
    return "\n".join(lines)


def cmd_meetings_plan(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.access import Viewer
    from matcher.meetings.event import load_event, resolve_institutions
    from matcher.meetings.plan import load_plan, save_plan
    from matcher.meetings.schedule import plan_event
    from matcher.meetings.solver import SolverSettings
    from matcher.search import open_index

    given = {k: getattr(args, k) for k in ("time_limit", "seed", "workers") if getattr(args, k) is not None}
    settings = SolverSettings(**given)
    event = load_event(args.event)  # a bad event is reported before the index (and a model) loads
    pin = load_plan(args.pin) if args.pin else None
    version = open_index(args.index, args.encoder)
    event = resolve_institutions(event, version.registry)
    viewer = Viewer("admin")
    if args.organiser_institution:
        viewer = Viewer("officer", version.registry.resolve(args.organiser_institution, "organiser_institution"))
    plan = plan_event(event, version, settings=settings, pin=pin, viewer=viewer)
    if args.out:
        save_plan(plan, args.out)
    emit(plan.to_dict(), args.json, _text(plan))
    return 0


def add_meetings_commands(sub: Any, common: Callable[..., None], emit: Emit) -> None:
    """Add ``meetings plan`` to the ``matcher`` subcommands ``sub``."""
    p = sub.add_parser("meetings", help="matchmaking events: plan who meets whom, and when")
    meetings = p.add_subparsers(dest="meetings_command", required=True)
    k = meetings.add_parser("plan", help="schedule an event's meetings (OR-Tools CP-SAT)")
    k.add_argument("--index", required=True)
    k.add_argument("--event", required=True, help="event file (.json or .toml; corpora/demo/event.json)")
    k.add_argument("--pin", help="a published plan: keep its meetings in place where still feasible")
    k.add_argument("--out", help="write the plan JSON here")
    k.add_argument("--time-limit", type=float, help="CP-SAT wall-clock limit in seconds (default 30)")
    k.add_argument("--seed", type=int, help="CP-SAT random seed (default 0)")
    k.add_argument("--workers", type=int, help="CP-SAT workers (default 2; fixed, so the plan is deterministic)")
    k.add_argument("--organiser-institution",
                   help="plan as an officer of this institution (only what it may see); default: as an admin")
    common(k, encoder=True)
    k.set_defaults(func=partial(cmd_meetings_plan, emit=emit))
    add_packets_parser(meetings, name="packets")
