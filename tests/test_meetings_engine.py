"""Meeting candidates from the engine and ``matcher meetings plan`` end to end, over the fake-encoder demo
index (fast lane): only the event's institutions, live records the organiser may see, bundle meetings
with every party at one table, the plan JSON of the command, pinning through files, errors exit 2."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from matcher import cli
from matcher.access import Viewer
from matcher.meetings.candidates import build_candidates
from matcher.meetings.check import check_plan
from matcher.meetings.event import load_event
from matcher.meetings.schedule import plan_event
from matcher.meetings.solver import SolverSettings
from matcher.store.versions import IndexStore
from tests.conftest import DEMO
from tests.fakes import FakeEncoder

EVENT = DEMO / "event.json"
SETTINGS = SolverSettings(time_limit=10.0)


@pytest.fixture(scope="module")
def version(fake_demo_index, fake_encoders):
    return IndexStore(fake_demo_index).load(dict(fake_encoders))


@pytest.fixture(scope="module")
def event(version):
    return load_event(EVENT, version.registry)


@pytest.fixture(scope="module")
def admin_candidates(event, version):
    return build_candidates(event, version)


def test_candidates_are_live_visible_and_of_the_event(event, version, admin_candidates):
    names = {i.name for i in event.institutions}
    by_id = {t.id: t for t in version.technologies}
    assert admin_candidates.candidates
    for c in admin_candidates.candidates:
        assert set(c.institutions) <= names
        for tid in c.technologies:
            tech = by_id[tid]
            assert tech.active and any(version.registry.owns(tech, i) for i in c.institutions)
        assert all(e.technology in c.technologies and e.requirements is not None and e.why for e in c.evidence)
    avoided = ("주식회사 케어링크", "한빛대학교 산학협력단")
    assert not any(c.company == avoided[0] and avoided[1] in c.institutions for c in admin_candidates.candidates)
    officer = Viewer("officer", "누리대학교 산학협력단")
    seen = build_candidates(event, version, viewer=officer)
    for c in seen.candidates:
        for tid in c.technologies:
            tech = by_id[tid]
            assert not tech.confidential or version.registry.owns(tech, "누리대학교 산학협력단")


def test_demo_event_plan_keeps_every_rule(event, version, admin_candidates):
    plan = plan_event(event, version, settings=SETTINGS)
    assert check_plan(event, admin_candidates.candidates, plan) == []
    assert plan.objective.weighted >= plan.baseline_objective.weighted
    assert plan.objective.musts_met == 1 and plan.index_version == version.name
    first = plan.to_dict()["meetings"][0]
    assert {"id", "slot", "end", "table", "company", "institutions", "kind", "technologies", "score",
            "evidence"} <= set(first)
    assert {"technology", "title", "institution", "relevance", "requirements", "why"} <= set(first["evidence"][0])


def test_a_demand_two_institutions_cover_together_gets_a_bundle_meeting(event, version, admin_candidates):
    cands = admin_candidates.candidates
    best_single = {c.company: max((s.score for s in cands if s.company == c.company and s.kind == "single"),
                                  default=0.0) for c in cands}
    bundle = max((c for c in cands if c.kind == "bundle" and c.score > best_single[c.company]),
                 key=lambda c: c.score, default=None)
    assert bundle is not None, "the demo event should hold a demand that a convergence bundle covers best"
    one = replace(event, companies=tuple(replace(c, max_meetings=1) if c.name == bundle.company else c
                                         for c in event.companies))
    plan = plan_event(one, version, settings=SETTINGS)
    assert check_plan(one, cands, plan) == []
    mine = [m for m in plan.meetings if m.company == bundle.company]
    assert len(mine) == 1 and mine[0].kind == "bundle" and mine[0].institutions == bundle.institutions
    others = [m for m in plan.meetings if m.slot == mine[0].slot and m is not mine[0]]
    assert not any(set(m.institutions) & set(bundle.institutions) for m in others)


@pytest.fixture
def fakes(monkeypatch, fake_encoders):
    made = dict(fake_encoders)
    monkeypatch.setattr("matcher.encoders.load_encoder", lambda name=None: made.get(name or "minilm")
                        or FakeEncoder(str(name)))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_command_plans_pins_and_refuses_bad_events(fakes, fake_demo_index, capsys, tmp_path):
    index = str(fake_demo_index)
    code, out, err = run(capsys, "meetings", "plan", "--index", index, "--event", str(EVENT), "--json",
                         "--out", str(tmp_path / "plan.json"), "--time-limit", "10")
    assert code == 0, err
    plan = json.loads(out)
    assert {"meetings", "unscheduled", "objective", "baseline_objective", "solver", "event", "index_version",
            "created"} <= set(plan)
    assert plan["solver"]["name"] == "cp-sat" and plan["solver"]["status"] == "OPTIMAL"
    assert json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))["meetings"] == plan["meetings"]
    gone = plan["meetings"][0]["company"]
    data = json.loads(EVENT.read_text(encoding="utf-8"))
    data["companies"] = [c for c in data["companies"] if c["name"] != gone]
    data["requests"] = [r for r in data["requests"] if r["company"] != gone]
    (tmp_path / "event.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, err = run(capsys, "meetings", "plan", "--index", index, "--event", str(tmp_path / "event.json"),
                         "--pin", str(tmp_path / "plan.json"), "--json")
    assert code == 0, err
    replan = json.loads(out)
    lost = sum(1 for m in plan["meetings"] if m["company"] == gone)
    assert replan["moved"] == lost and replan["kept"] == len(plan["meetings"]) - lost
    code, out, _ = run(capsys, "meetings", "plan", "--index", index, "--event", str(EVENT))
    assert code == 0 and "M001" in out
    data["companies"][1]["unavailable"] = ["9:70"]
    (tmp_path / "bad.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "meetings", "plan", "--index", index, "--event", str(tmp_path / "bad.json"))
    assert code == 2 and 'companies[1].unavailable[0]: "9:70" is not one of the event\'s slots 09:00' in err
    data["companies"][1]["unavailable"] = []
    data["institutions"][0]["name"] = "없는대학교"
    (tmp_path / "bad.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "meetings", "plan", "--index", index, "--event", str(tmp_path / "bad.json"))
    assert code == 2 and "institutions[0].name: unknown institution '없는대학교'" in err and "Traceback" not in err
