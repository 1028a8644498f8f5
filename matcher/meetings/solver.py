"""The CP-SAT model (OR-Tools): one boolean per (candidate, allowed slot); tables are interchangeable,
so a slot has a capacity (``tables``) and table numbers are given after solving (``schedule.py``).

Constraints and objective are those of ``problem.py``: per slot at most one meeting per party and at most
``tables`` meetings; per party at most ``max_meetings``; per (company, institution) pair at most one
meeting. The lexicographic objective (pins kept ≻ musts met ≻ companies with ≥1 meeting ≻ total value) is
solved in two CP-SAT solves: the tiers first (small dominating weights), then the value with the tiers held
at what the first solve found — the same optimum as ``problem.py``'s one-integer ``weighted``, without its
large coefficients. The greedy baseline's assignment is the first solve's hint, the first solve's answer
the second's.

Determinism: a fixed ``random_seed`` and a fixed number of workers; with more than one worker the search is
interleaved (``interleave_search``), which CP-SAT runs deterministically. ``time_limit`` is spent as CP-SAT's
*deterministic* time (half per solve), so a solve it stops gives the same answer on an idle or a loaded machine;
only the wall-clock cap (``WALL_CAP`` × the limit, for a machine many times slower) could cut a run short.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from matcher.errors import ConfigError
from matcher.meetings.problem import Party, Problem, evaluate, parties_of

DEFAULT_TIME_LIMIT = 30.0
DEFAULT_SEED = 0
DEFAULT_WORKERS = 2
WALL_CAP = 4.0  # the wall-clock cap of a solve, as a multiple of its deterministic time limit


@dataclass(frozen=True)
class SolverSettings:
    """CP-SAT's wall-clock ``time_limit`` (seconds), ``seed`` and ``workers``."""

    time_limit: float = DEFAULT_TIME_LIMIT
    seed: int = DEFAULT_SEED
    workers: int = DEFAULT_WORKERS

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ConfigError(f"time_limit={self.time_limit!r} must be a positive number of seconds")
        if self.workers < 1:
            raise ConfigError(f"workers={self.workers!r} must be at least 1")


DEFAULT_SETTINGS = SolverSettings()


@dataclass(frozen=True)
class Solution:
    assignment: dict[int, str]
    status: str
    seconds: float


def _variables(model: cp_model.CpModel, problem: Problem) -> dict[tuple[int, str], cp_model.IntVar]:
    return {(i, s): model.NewBoolVar(f"x{i}_{s}") for i in range(len(problem.candidates))
            for s in problem.allowed_slots(i)}


def _constraints(model: cp_model.CpModel, problem: Problem, x: Mapping[tuple[int, str], cp_model.IntVar]) -> None:
    by_slot: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    by_party_slot: dict[tuple[Party, str], list[cp_model.IntVar]] = defaultdict(list)
    by_party: dict[Party, list[cp_model.IntVar]] = defaultdict(list)
    by_pair: dict[tuple[str, str], list[cp_model.IntVar]] = defaultdict(list)
    for (i, s), var in x.items():
        c = problem.candidates[i]
        by_slot[s].append(var)
        for p in parties_of(c):
            by_party_slot[(p, s)].append(var)
            by_party[p].append(var)
        for inst in c.institutions:
            by_pair[(c.company, inst)].append(var)
    for s in sorted(by_slot):
        model.Add(sum(by_slot[s]) <= problem.event.tables)
    for key in sorted(by_party_slot):
        if len(by_party_slot[key]) > 1:
            model.AddAtMostOne(by_party_slot[key])
    for p in sorted(by_party):
        if len(by_party[p]) > problem.limits[p][0]:
            model.Add(sum(by_party[p]) <= problem.limits[p][0])
    for key in sorted(by_pair):
        if len(by_pair[key]) > 1:
            model.AddAtMostOne(by_pair[key])


def _tiers(model: cp_model.CpModel, problem: Problem,
           x: Mapping[tuple[int, str], cp_model.IntVar]) -> tuple[cp_model.LinearExprT, cp_model.LinearExprT]:
    """(tiers, value): the tiers pins ≻ musts ≻ companies met as one small-weight integer expression, and
    the total value."""
    n_comp, n_must = len(problem.event.companies), len(problem.musts)
    w_must = n_comp + 1
    w_pin = n_must * w_must + n_comp + 1
    tiers: list[cp_model.LinearExprT] = [w_pin * x[(i, s)] for i, s in problem.pins.items() if (i, s) in x]
    for company, inst in problem.musts:
        holding = [v for (i, _), v in x.items() if problem.candidates[i].company == company
                   and inst in problem.candidates[i].institutions]
        if holding:
            tiers.append(w_must * sum(holding))  # at most one: the pair constraint
    by_company: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for (i, _), var in x.items():
        by_company[problem.candidates[i].company].append(var)
    for company in sorted(by_company):
        met = model.NewBoolVar(f"met_{len(tiers)}")
        model.Add(met <= sum(by_company[company]))
        tiers.append(met)
    value = sum(problem.candidates[i].value * var for (i, _), var in x.items())
    return sum(tiers), value


def _solver(settings: SolverSettings, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    # the limit is CP-SAT's deterministic time (work counted, not the clock), so a solve stopped by it is the
    # same on a busy machine; the wall clock only caps a pathological run (then ``status`` stays FEASIBLE)
    solver.parameters.max_deterministic_time = max(0.1, seconds)
    solver.parameters.max_time_in_seconds = max(0.1, seconds) * WALL_CAP
    solver.parameters.random_seed = int(settings.seed)
    solver.parameters.num_workers = int(settings.workers)
    if settings.workers > 1:
        solver.parameters.interleave_search = True
    return solver


def _hint(model: cp_model.CpModel, x: Mapping[tuple[int, str], cp_model.IntVar], hint: Mapping[int, str]) -> None:
    model.ClearHints()
    for (i, s), var in x.items():
        model.AddHint(var, int(hint.get(i) == s))


def solve(problem: Problem, settings: SolverSettings = DEFAULT_SETTINGS,
          hint: Mapping[int, str] | None = None) -> Solution:
    """The best assignment CP-SAT finds within ``settings.time_limit``, lexicographically in two solves:
    first the tiers (pins, musts, companies met; half the time), then — the tiers held at what the first
    found — the total value. Status ``OPTIMAL`` when both are proved."""
    started = time.perf_counter()
    model = cp_model.CpModel()
    x = _variables(model, problem)
    _constraints(model, problem, x)
    tiers, value = _tiers(model, problem, x)
    if hint is not None:
        _hint(model, x, hint)
    model.Maximize(tiers)
    solver = _solver(settings, settings.time_limit / 2)
    first = solver.Solve(model)
    if first not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solution(assignment={}, status=solver.StatusName(first), seconds=time.perf_counter() - started)
    best = {i: s for (i, s), var in x.items() if solver.BooleanValue(var)}
    if hint is not None and evaluate(problem, dict(hint)).weighted > evaluate(problem, best).weighted:
        best = dict(hint)  # the first solve only cared for the tiers: a hint as good there may be worth more
    model.Add(tiers >= int(round(solver.ObjectiveValue())))
    model.Maximize(value)
    _hint(model, x, best)
    solver = _solver(settings, settings.time_limit / 2)
    second = solver.Solve(model)
    if second in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = {i: s for (i, s), var in x.items() if solver.BooleanValue(var)}
    proved = first == cp_model.OPTIMAL and second == cp_model.OPTIMAL
    status = "OPTIMAL" if proved else "FEASIBLE"
    return Solution(assignment=best, status=status, seconds=time.perf_counter() - started)
