"""Meeting plans in the state store (``matcher/state/plans.py``), a plan as each viewer sees it
(``matcher/meetings/view.py``) and ``/api/meetings/plans`` end to end over the fake-encoder demo index:
organisers plan and publish, officers fetch only their institution's meetings of published plans, cannot
plan (403), a bad event is a 422 naming the entry, a re-plan pins a stored plan — on SQLite, and on
PostgreSQL when ``MATCHER_TEST_DATABASE_URL`` is set (the ``database_url`` fixture)."""

from __future__ import annotations

import copy
import json

import pytest

from matcher.access import Viewer
from matcher.errors import NotFoundError
from matcher.meetings.candidates import CandidateSet
from matcher.meetings.event import parse_event
from matcher.meetings.schedule import plan_candidates
from matcher.meetings.solver import SolverSettings
from matcher.meetings.view import counts, plan_view, takes_part
from matcher.state import plans as plan_table
from matcher.state.store import StateStore
from tests.conftest import DEMO
from tests.meetings_helpers import candidate, event_data

NURI = "누리대학교 산학협력단"
SAESOL = "새솔대학교 산학협력단"
SECRET = "DEMO-0036"  # confidential, 누리대학교's
SECRET_DEMAND = "federated training of medical imaging models across hospitals without moving patient scans"


def small_plan() -> dict:
    """C0 meets I0, C1 meets I1, C2 meets I0+I1 (a bundle), C3 has no candidate; a must C3–I1 unmet."""
    data = event_data(4, 3, slots=3, tables=2)
    data["requests"] = [{"company": "C3", "institution": "I1", "kind": "must"},
                        {"company": "C0", "institution": "I2", "kind": "avoid"}]
    event = parse_event(data)
    found = CandidateSet((candidate("C0", "I0", score=0.9), candidate("C1", "I1", score=0.8),
                          candidate("C2", "I0", "I1", score=0.7)))
    plan = plan_candidates(event, found, index_version="v-test", settings=SolverSettings(time_limit=5.0),
                           created="2026-05-01T00:00:00+00:00")
    return plan.to_dict()


# ---------------------------------------------------------------- the table


@pytest.fixture
def state(database_url):
    store = StateStore(database_url)
    yield store
    store.close()


def test_plans_are_saved_listed_and_published(state):
    plan = small_plan()
    first = plan_table.save(state, plan, created_by=None)
    assert first["status"] == "draft" and first["published"] is None and first["plan"] == plan
    assert (first["name"], first["date"], first["index_version"]) == ("test day", "2026-05-20", "v-test")
    second = plan_table.save(state, plan, pinned_from=first["id"])
    assert [r["id"] for r in plan_table.listing(state)] == [second["id"], first["id"]]  # newest first
    assert "plan" not in plan_table.listing(state)[0] and plan_table.listing(state, with_plan=True)[0]["plan"] == plan
    assert plan_table.listing(state, statuses=("published",)) == []
    published = plan_table.publish(state, first["id"])
    assert published["status"] == "published" and published["published"]
    assert plan_table.publish(state, first["id"])["published"] == published["published"]  # again: no change
    assert plan_table.publish(state, second["id"])["status"] == "published"
    assert plan_table.require(state, first["id"])["status"] == "superseded"  # the re-plan replaced it
    assert [r["id"] for r in plan_table.listing(state, statuses=("published",))] == [second["id"]]
    assert plan_table.get(state, 999) is None
    with pytest.raises(NotFoundError, match="no meeting plan with id 999"):
        plan_table.publish(state, 999)
    long_name = copy.deepcopy(plan)
    long_name["event"]["name"] = "이" * 500
    assert len(plan_table.save(state, long_name)["name"]) == plan_table.NAME_CHARS


# ---------------------------------------------------------------- what each viewer sees


def test_officers_see_only_their_institutions_meetings():
    plan = small_plan()
    assert {m["company"] for m in plan["meetings"]} == {"C0", "C1", "C2"}
    mine = plan_view(plan, Viewer("officer", "I1"), lambda t: True)
    assert mine["scope"] == "institution"
    assert {m["company"] for m in mine["meetings"]} == {"C1", "C2"} and all("I1" in m["institutions"]
                                                                          for m in mine["meetings"])
    assert mine["unscheduled"] == [u for u in plan["unscheduled"] if u.get("institution") == "I1"]
    assert [c["name"] for c in mine["event"]["companies"]] == ["C1", "C2", "C3"]  # C3: the unmet must with I1
    assert {i["name"] for i in mine["event"]["institutions"]} == {"I0", "I1"}
    assert mine["event"]["requests"] == [{"company": "C3", "institution": "I1", "kind": "must"}]
    assert "C0" not in json.dumps(mine)  # never another meeting's company
    other = plan_view(plan, Viewer("officer", "I2"), lambda t: True)
    assert other["meetings"] == [] and other["event"]["companies"] == [] and other["unscheduled"] == []
    assert plan_view(plan, Viewer("officer"), lambda t: True)["meetings"] == []  # bound to none: nothing
    whole = plan_view(plan, Viewer("organiser"), lambda t: True)
    assert whole["scope"] == "all" and whole["meetings"] == plan["meetings"] and whole["event"] == plan["event"]
    hidden = plan_view(plan, Viewer("organiser"), lambda t: not t.startswith("T-I0"))
    assert all(not t.startswith("T-I0") for m in hidden["meetings"] for t in m["technologies"])
    assert plan_view(plan, Viewer("admin"), lambda t: False)["meetings"] == plan["meetings"]  # admins see all
    assert counts(mine) == {"meetings": 2, "companies": 2, "unscheduled": len(mine["unscheduled"]), "bundles": 1}
    assert takes_part(plan, "I2") and not takes_part(plan, "I9") and not takes_part(plan, None)


# ---------------------------------------------------------------- the API


@pytest.fixture
def api(tmp_path, database_url, fake_demo_index, fake_encoders):
    from fastapi.testclient import TestClient

    from matcher.keys import KeyStore
    from service.app import create_app
    from service.settings import ServiceSettings
    from service.state import load_engine

    keys_file = tmp_path / "keys.json"
    store = KeyStore(keys_file, database_url)
    made = {name: store.create(role, inst) for name, role, inst in [
        ("admin", "admin", None), ("organiser", "organiser", None), ("nuri", "officer", NURI),
        ("saesol", "officer", SAESOL), ("unbound", "officer", None)]}
    store.close()
    settings = ServiceSettings(index=fake_demo_index, keys_file=keys_file, database_url=database_url,
                               reload_interval=0, audit_log="", plan_time_limit=20)
    app = create_app(settings, engine=load_engine(settings, dict(fake_encoders)))
    with TestClient(app) as client:
        def call(method: str, path: str, who: str, body: dict | None = None):
            return client.request(method, path, json=body, headers={"Authorization": f"Bearer {made[who][0]}"})

        call.ids = {name: record["id"] for name, (_, record) in made.items()}  # type: ignore[attr-defined]
        yield call


def demo_event() -> dict:
    return json.loads((DEMO / "event.json").read_text(encoding="utf-8"))


def test_organisers_plan_and_publish_officers_see_their_meetings(api):
    event = demo_event()
    body = {"event": event, "time_limit": 10}
    assert api("POST", "/api/meetings/plans", "nuri", body).status_code == 403
    assert api("POST", "/api/meetings/plans", "organiser", {**body, "time_limit": 60}).status_code == 422
    made = api("POST", "/api/meetings/plans", "organiser", body)
    assert made.status_code == 200, made.text
    stored = made.json()
    plan_id, plan = stored["id"], stored["plan"]
    assert stored["status"] == "draft" and stored["created_by"] == api.ids["organiser"]
    assert plan["scope"] == "all" and plan["meetings"] and plan["solver"]["time_limit"] == 10
    assert stored["counts"]["meetings"] == len(plan["meetings"])
    assert NURI in {i["name"] for i in plan["event"]["institutions"]}  # canonical names
    assert "objective" in plan and "baseline_objective" in plan

    # a draft is the organisers' own: officers neither list nor fetch it
    assert api("GET", "/api/meetings/plans", "nuri").json() == []
    assert api("GET", f"/api/meetings/plans/{plan_id}", "nuri").status_code == 404
    assert api("POST", f"/api/meetings/plans/{plan_id}/publish", "nuri").status_code == 403
    published = api("POST", f"/api/meetings/plans/{plan_id}/publish", "organiser")
    assert published.status_code == 200 and published.json()["status"] == "published"

    seen = api("GET", f"/api/meetings/plans/{plan_id}", "nuri").json()
    mine = [m for m in plan["meetings"] if NURI in m["institutions"]]
    assert mine and [m["id"] for m in seen["plan"]["meetings"]] == [m["id"] for m in mine]
    assert seen["plan"]["scope"] == "institution" and seen["created_by"] is None
    text = json.dumps(seen, ensure_ascii=False)
    for company in {m["company"] for m in plan["meetings"]} - {m["company"] for m in mine}:
        assert company not in text, company  # no other meeting's company, anywhere
    listed = api("GET", "/api/meetings/plans", "nuri").json()
    assert [p["id"] for p in listed] == [plan_id] and listed[0]["counts"]["meetings"] == len(mine)
    assert api("GET", f"/api/meetings/plans/{plan_id}", "unbound").status_code == 404
    assert api("GET", f"/api/meetings/plans/{plan_id}", "admin").json()["plan"]["meetings"] == plan["meetings"]

    # re-plan: a company leaves; published meetings stay in place where still feasible
    leaving = plan["meetings"][0]["company"]
    event2 = {**event, "companies": [c for c in event["companies"] if c["name"] != leaving]}
    event2["requests"] = [r for r in event["requests"] if r["company"] != leaving]
    again = api("POST", "/api/meetings/plans", "organiser", {"event": event2, "pin": plan_id, "time_limit": 10})
    assert again.status_code == 200, again.text
    replan = again.json()
    assert replan["pinned_from"] == plan_id and replan["plan"]["kept"] is not None
    assert replan["plan"]["moved"] >= sum(1 for m in plan["meetings"] if m["company"] == leaving)
    assert all(m["company"] != leaving for m in replan["plan"]["meetings"])
    kept = {(m["company"], m["slot"], m["table"]) for m in replan["plan"]["meetings"]}
    assert replan["plan"]["kept"] == sum(1 for m in plan["meetings"] if (m["company"], m["slot"], m["table"]) in kept)
    api("POST", f"/api/meetings/plans/{replan['id']}/publish", "organiser")
    assert api("GET", f"/api/meetings/plans/{plan_id}", "organiser").json()["status"] == "superseded"
    assert [p["id"] for p in api("GET", "/api/meetings/plans", "nuri").json()] == [replan["id"]]
    assert {p["id"] for p in api("GET", "/api/meetings/plans", "organiser").json()} == {plan_id, replan["id"]}
    assert api("POST", "/api/meetings/plans", "organiser", {"event": event, "pin": 4242}).status_code == 404


def test_a_bad_event_is_named(api):
    event = demo_event()
    event["companies"][1]["unavailable"] = ["12:00"]
    bad = api("POST", "/api/meetings/plans", "organiser", {"event": event})
    assert bad.status_code == 422
    assert bad.json()["field"] == "event.companies[1].unavailable[0]" and "12:00" in bad.json()["detail"]
    unknown = demo_event()
    unknown["institutions"][0]["name"] = "없는대학교"
    bad = api("POST", "/api/meetings/plans", "admin", {"event": unknown})
    assert bad.status_code == 422 and bad.json()["field"] == "event.institutions[0].name"
    assert "없는대학교" in bad.json()["detail"]
    assert api("POST", "/api/meetings/plans", "admin", {"event": {"name": "x"}}).status_code == 422
    assert api("POST", "/api/meetings/plans", "admin", {"event": demo_event(), "time_limit": 0}).status_code == 422
    assert api("GET", "/api/meetings/plans/0", "admin").status_code == 422
    assert api("GET", "/api/meetings/plans/77", "admin").status_code == 404


def test_organisers_plan_with_public_records_only(api):
    """An admin's plan may show a confidential technology; an organiser bound to no institution neither plans
    with it nor sees it in the admin's plan."""
    event = demo_event()
    event["companies"].append({"name": "Federated Health Ltd.", "demand": {"text": SECRET_DEMAND}})
    by_admin = api("POST", "/api/meetings/plans", "admin", {"event": event, "time_limit": 10}).json()
    assert SECRET in json.dumps(by_admin)
    by_organiser = api("POST", "/api/meetings/plans", "organiser", {"event": event, "time_limit": 10}).json()
    assert SECRET not in json.dumps(by_organiser)
    viewed = api("GET", f"/api/meetings/plans/{by_admin['id']}", "organiser").json()
    assert SECRET not in json.dumps(viewed) and len(viewed["plan"]["meetings"]) == len(by_admin["plan"]["meetings"])


def test_the_pages_example_event_is_the_demo_event():
    from tests.conftest import REPO

    page_copy = REPO / "service" / "static" / "event-example.json"
    assert json.loads(page_copy.read_text(encoding="utf-8")) == demo_event()


def _published(api) -> dict:
    stored = api("POST", "/api/meetings/plans", "organiser", {"event": demo_event(), "time_limit": 10}).json()
    api("POST", f"/api/meetings/plans/{stored['id']}/publish", "organiser")
    return stored


def test_packets_grid_and_calendars_follow_the_viewer(api):
    stored = _published(api)
    plan_id, meetings = stored["id"], stored["plan"]["meetings"]
    grid = api("GET", f"/api/meetings/plans/{plan_id}/grid.csv", "organiser")
    assert grid.status_code == 200 and grid.headers["content-type"].startswith("text/csv")
    lines = grid.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("slot,end,table 1") and len(lines) == 1 + len(stored["plan"]["event"]["slots"])
    assert all(m["company"] in grid.content.decode("utf-8") for m in meetings)
    assert api("GET", f"/api/meetings/plans/{plan_id}/grid.csv", "nuri").status_code == 403
    ics = api("GET", f"/api/meetings/plans/{plan_id}/agenda.ics?participant={NURI}", "nuri")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    text = ics.content.decode("utf-8")
    mine = [m for m in meetings if NURI in m["institutions"]]
    assert text.count("BEGIN:VEVENT") == len(mine) and all(m["id"] in text for m in mine)
    others = [m for m in meetings if NURI not in m["institutions"]]
    theirs = others[0]["company"]
    assert api("GET", f"/api/meetings/plans/{plan_id}/agenda.ics?participant={theirs}", "nuri").status_code == 404
    assert api("GET", f"/api/meetings/plans/{plan_id}/agenda.ics?participant={theirs}", "organiser").status_code == 200
    assert api("GET", f"/api/meetings/plans/{plan_id}/meetings/{others[0]['id']}.pdf", "nuri").status_code == 404
    assert api("GET", f"/api/meetings/plans/{plan_id}/meetings/X1.pdf", "nuri").status_code == 422


@pytest.mark.slow
def test_a_meeting_packet_pdf_for_its_institutions_officer(api):
    stored = _published(api)
    mine = next(m for m in stored["plan"]["meetings"] if NURI in m["institutions"])
    path = f"/api/meetings/plans/{stored['id']}/meetings/{mine['id']}.pdf"
    pdf = api("GET", path, "nuri")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert api("GET", path, "nuri").content == pdf.content  # the second time: the cached file
    assert api("GET", path, "saesol").status_code == 404
