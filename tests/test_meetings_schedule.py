"""The meeting schedule without the engine: hard constraints on every solved plan (``check_plan``), the
optimum against brute force on random small events, determinism, pinning, infeasible events and the
event file's errors. Engine candidates and the command are in ``test_meetings_engine.py``."""

from __future__ import annotations

import json

import pytest

from matcher.errors import InputFileError, ValidationError
from matcher.institutions import InstitutionRegistry
from matcher.meetings.candidates import NO_MATCH, CandidateSet, apply_requests
from matcher.meetings.check import check_plan
from matcher.meetings.event import load_event, parse_event, resolve_institutions
from matcher.meetings.greedy import greedy_assignment
from matcher.meetings.plan import Plan, load_plan, save_plan
from matcher.meetings.problem import Problem, evaluate
from matcher.meetings.schedule import plan_candidates
from matcher.meetings.solver import SolverSettings
from matcher.records import Institution
from tests.meetings_helpers import brute_force, candidate, event_data, random_case

SETTINGS = SolverSettings(time_limit=10.0, seed=0, workers=2)


def plan_of(event, found: CandidateSet, pin: Plan | None = None) -> Plan:
    plan = plan_candidates(event, found, index_version="v-test", settings=SETTINGS, pin=pin,
                           created="2026-05-01T00:00:00+00:00")
    candidates = _with_pins(found, pin, event)
    assert check_plan(event, candidates, plan) == []
    return plan


def _with_pins(found, pin, event):
    from matcher.meetings.schedule import pin_meetings

    return pin_meetings(event, found.candidates, pin.meetings if pin else ()).candidates


def stable(plan: Plan) -> dict:
    data = plan.to_dict()
    data["solver"].pop("seconds")
    return data


@pytest.mark.parametrize("seed", range(40))
def test_random_small_events_reach_the_brute_force_optimum(seed):
    event, found = random_case(seed)
    plan = plan_of(event, found)
    problem = Problem(event, found.candidates)
    assert plan.solver.status == "OPTIMAL"
    assert plan.objective.weighted == brute_force(problem)
    assert plan.baseline_objective == evaluate(problem, greedy_assignment(problem))
    assert plan.objective.weighted >= plan.baseline_objective.weighted


def test_every_company_gets_a_meeting_before_more_value():
    """Maximin first: C0's two strong meetings lose to C1 getting its only one."""
    event = parse_event(event_data(2, 2, slots=1, tables=1))
    found = apply_requests(event, [candidate("C0", "I0", score=0.9), candidate("C1", "I1", score=0.1)])
    plan = plan_of(event, found)
    assert [m.company for m in plan.meetings] == ["C0"]  # one table, one slot: the better one
    event = parse_event(event_data(2, 2, slots=2, tables=1))
    found = apply_requests(event, [candidate("C0", "I0", score=0.9), candidate("C0", "I1", score=0.9),
                                   candidate("C1", "I1", score=0.1)])
    plan = plan_of(event, found)
    assert {m.company for m in plan.meetings} == {"C0", "C1"} and plan.objective.companies_met == 2


def test_same_input_same_plan():
    event, found = random_case(7)
    big = parse_event(event_data(6, 4, slots=4, tables=2))
    many = apply_requests(big, [candidate(f"C{c}", f"I{i}", score=((c * 7 + i * 3) % 10) / 10)
                                for c in range(6) for i in range(4)])
    for ev, cands in ((event, found), (big, many)):
        assert stable(plan_of(ev, cands)) == stable(plan_of(ev, cands))


def test_must_avoid_and_reasons():
    data = event_data(4, 3, slots=2, tables=2, requests=[
        {"company": "C0", "institution": "I2", "kind": "must"},
        {"company": "C1", "institution": "I0", "kind": "avoid"}])
    data["companies"][2]["unavailable"] = ["09:00", "09:30"]
    event = parse_event(data)
    found = apply_requests(event, [candidate("C0", "I0", score=0.9), candidate("C1", "I0", score=0.9),
                                   candidate("C2", "I1", score=0.5)])
    plan = plan_of(event, found)
    pairs = {(m.company, i) for m in plan.meetings for i in m.institutions}
    assert ("C0", "I2") in pairs and ("C1", "I0") not in pairs
    must = next(m for m in plan.meetings if ("C0", "I2") == (m.company, m.institutions[0]))
    assert must.must and must.score == 0 and "no matching technology" in must.note
    reasons = {u.company: u.reason for u in plan.unscheduled}
    assert reasons["C1"] == NO_MATCH and reasons["C3"] == NO_MATCH
    assert "every slot" in reasons["C2"]


def test_infeasible_event_gives_reasons_not_an_exception():
    data = event_data(3, 2, slots=1, tables=1, requests=[
        {"company": "C0", "institution": "I0", "kind": "must"},
        {"company": "C1", "institution": "I0", "kind": "must"}])
    data["institutions"][1]["max_meetings"] = 0
    event = parse_event(data)
    found = apply_requests(event, [candidate("C2", "I1", score=1.0)])
    plan = plan_of(event, found)
    assert len(plan.meetings) == 1 and plan.objective.musts_met == 1
    left = {(u.company, u.institution): u.reason for u in plan.unscheduled}
    must_left = [r for (_, inst), r in left.items() if inst == "I0"]
    assert len(must_left) == 1 and "could not meet" in must_left[0]
    assert "available" in left[("C2", None)] or "no meetings" in left[("C2", None)]
    empty = parse_event(event_data(2, 2))
    plan = plan_of(empty, apply_requests(empty, []))
    assert plan.meetings == () and {u.reason for u in plan.unscheduled} == {NO_MATCH}


def test_bundle_meeting_holds_every_party_at_one_slot():
    event = parse_event(event_data(2, 3, slots=2, tables=2))
    found = apply_requests(event, [candidate("C0", "I0", "I1", score=0.9), candidate("C1", "I0", score=0.5),
                                   candidate("C1", "I1", score=0.5)])
    plan = plan_of(event, found)
    bundle = next(m for m in plan.meetings if m.kind == "bundle")
    assert bundle.institutions == ("I0", "I1")
    assert all(m.slot != bundle.slot for m in plan.meetings if m is not bundle)  # I0 and I1 are busy then


def _published():
    event = parse_event(event_data(5, 4, slots=3, tables=2))
    found = apply_requests(event, [candidate(f"C{c}", f"I{i}", score=0.3 + 0.1 * ((c + i) % 5))
                                   for c in range(5) for i in range(4) if (c + i) % 3])
    return event, found, plan_of(event, found)


def test_pinning_a_cancellation_keeps_the_others_in_place(tmp_path):
    event, found, published = _published()
    save_plan(published, tmp_path / "plan.json")
    published = load_plan(tmp_path / "plan.json")
    gone = published.meetings[0].company
    data = event.to_dict()
    data["companies"] = [c for c in data["companies"] if c["name"] != gone]
    changed = parse_event(data)
    replan = plan_of(changed, apply_requests(changed, [c for c in found.candidates if c.company != gone]),
                     pin=published)
    before = {(m.company, m.institutions): (m.slot, m.table) for m in published.meetings if m.company != gone}
    after = {(m.company, m.institutions): (m.slot, m.table) for m in replan.meetings}
    assert all(after.get(k) == v for k, v in before.items())
    lost = sum(1 for m in published.meetings if m.company == gone)
    assert replan.moved == lost and replan.kept == len(published.meetings) - lost
    assert {c.company for c in replan.changes} == {gone} and all(c.after is None for c in replan.changes)


def test_pinning_a_newly_unavailable_institution_moves_only_its_meetings():
    event, found, published = _published()
    first = published.meetings[0]
    data = event.to_dict()
    for inst in data["institutions"]:
        if inst["name"] == first.institutions[0]:
            inst["unavailable"] = [first.slot]
    changed = parse_event(data)
    replan = plan_of(changed, apply_requests(changed, list(found.candidates)), pin=published)
    assert replan.moved >= 1 and first.id in {c.id for c in replan.changes}
    hit = {m.id for m in published.meetings if m.slot == first.slot and first.institutions[0] in m.institutions}
    assert {c.id for c in replan.changes} <= hit
    data = event.to_dict()
    data["companies"].append({"name": "NEW", "demand": {"text": "new demand"}})
    bigger = parse_event(data)
    replan = plan_of(bigger, apply_requests(bigger, [*found.candidates, candidate("NEW", "I0", score=0.9)]),
                     pin=published)
    assert replan.moved == 0 and replan.kept == len(published.meetings)


def test_plan_json_round_trip(tmp_path):
    _, _, plan = _published()
    save_plan(plan, tmp_path / "p.json")
    assert load_plan(tmp_path / "p.json").to_dict() == plan.to_dict()
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValidationError, match="not a plan"):
        load_plan(tmp_path / "bad.json")


REGISTRY = InstitutionRegistry([Institution("누리대학교 산학협력단", ("누리대",)), Institution("한빛대학교 산학협력단")])


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["companies"][1].update(unavailable=["9:70"]),
     'companies[1].unavailable[0]: "9:70" is not one of the event\'s slots 09:00, 09:30'),
    (lambda d: d["companies"][0].update(demand={"text": " "}), "companies[0].demand.text: company 'C0' has no demand"),
    (lambda d: d["companies"][0].pop("demand"), "companies[0].demand"),
    (lambda d: d.update(slots=["09:00", "25:00"]), "slots[1]: '25:00' is not a time of day"),
    (lambda d: d.update(slots=["10:00", "09:00"]), "slots[1]: 09:00 does not come after 10:00"),
    (lambda d: d.update(tables=0), "tables: an integer ≥ 1"),
    (lambda d: d.update(date="2026-13-01"), "'date' must be a calendar date"),
    (lambda d: d.update(requests=[{"company": "X", "institution": "누리대", "kind": "must"}]),
     "requests[0].company: 'X' is not one of the event's companies"),
    (lambda d: d.update(requests=[{"company": "C0", "institution": "누리대", "kind": "maybe"}]),
     "requests[0].kind: 'maybe' is not a request kind; valid: must, avoid"),
    (lambda d: d["companies"].append(dict(d["companies"][0])), "companies[2].name: 'C0' is listed twice"),
])
def test_event_errors_name_the_entry(change, message):
    data = event_data(2, 2)
    data["institutions"] = [{"name": "누리대"}, {"name": "Hanbit"}]
    data["institutions"][1]["name"] = "한빛대학교"
    change(data)
    with pytest.raises(ValidationError) as info:
        resolve_institutions(parse_event(data), REGISTRY)
    assert message in str(info.value)


def test_event_institutions_resolve_and_unknown_ones_are_refused(tmp_path):
    data = event_data(2, 2, requests=[{"company": "C0", "institution": "누리대학교", "kind": "avoid"}])
    data["institutions"] = [{"name": "누리대"}, {"name": "한빛대학교"}]
    event = resolve_institutions(parse_event(data), REGISTRY)
    assert [i.name for i in event.institutions] == ["누리대학교 산학협력단", "한빛대학교 산학협력단"]
    assert event.requests[0].institution == "누리대학교 산학협력단"
    assert event.timezone == "Asia/Seoul" and event.end_of("09:30") == "09:55"
    data["institutions"][1]["name"] = "없는대학교"
    (tmp_path / "event.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"institutions\[1\]\.name: unknown institution '없는대학교'; known"):
        load_event(tmp_path / "event.json", REGISTRY)
    with pytest.raises(InputFileError, match="does not exist"):
        load_event(tmp_path / "none.json")


def test_toml_event_reads_like_json(tmp_path):
    (tmp_path / "e.toml").write_text('name = "d"\ndate = "2026-05-20"\nslots = ["9:00", "09:30"]\nslot_minutes = 20\n'
                                     'tables = 3\n[[companies]]\nname = "C"\ndemand = { text = "로봇" }\n'
                                     'unavailable = ["09:00"]\n[[institutions]]\nname = "누리대"\n', encoding="utf-8")
    event = load_event(tmp_path / "e.toml", REGISTRY)
    assert event.slots == ("09:00", "09:30") and event.companies[0].unavailable == ("09:00",)
    assert event.institutions[0].name == "누리대학교 산학협력단"
