"""Meeting packets (``matcher/meetings/packets/``) in the fast lane: plan reading, coverage, rationale, the
landscape map, agendas (.ics), the organiser's grid, HTML escaping and confidentiality — HTML only, over the
fake-encoder demo index. The PDF renders are in ``test_packets_render.py`` (slow)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from icalendar import Calendar

from matcher.access import Viewer
from matcher.errors import InputFileError, NotFoundError, ValidationError
from matcher.matching.demand import DemandMatcher
from matcher.meetings.packets import PacketWriter, load_plan, plan_from_dict
from matcher.meetings.packets.coverage import meeting_coverage
from matcher.meetings.packets.fonts import font_css, korean_font
from matcher.meetings.packets.grid import grid_csv, grid_rows
from matcher.meetings.packets.ics import agenda_calendar, meeting_uid
from matcher.meetings.packets.landscape import Landscape, fit_projection, projection_for
from matcher.meetings.packets.render import Renderer, environment
from matcher.meetings.packets.slugs import slug, unique_slugs
from matcher.records import DemandProfile
from matcher.store import IndexStore

PLAN = Path(__file__).resolve().parent / "fixtures" / "meetings" / "plan.json"
CONFIDENTIAL = "DEMO-0023"  # 해담융합에너지연구원's confidential technology, in meeting M005
CONFIDENTIAL_TITLE = "태양광 발전량 예측 기반 ESS 충방전 스케줄링 방법"


@pytest.fixture(scope="module")
def version(fake_demo_index, fake_encoders):
    return IndexStore(fake_demo_index).load(dict(fake_encoders))


@pytest.fixture(scope="module")
def plan_data() -> dict:
    return json.loads(PLAN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plan():
    return load_plan(PLAN)


@pytest.fixture(scope="module")
def renderer():
    return Renderer()


@pytest.fixture(scope="module")
def admin(version, renderer):
    return PacketWriter(version, renderer=renderer)


@pytest.fixture(scope="module")
def officer(version, renderer):
    return PacketWriter(version, Viewer("officer", "누리대"), renderer=renderer)


def _page(writer: PacketWriter, plan, meeting_id: str) -> str:
    meeting = next(m for m in plan.meetings if m.id == meeting_id)
    return writer.meeting_page(plan, meeting, writer.positions(plan), None)


# ---------------------------------------------------------------- plan file
def test_plan_reads_the_planners_format(plan):
    assert plan.event.timezone == "Asia/Seoul" and plan.event.tables == 3
    assert [m.id for m in plan.meetings_of("누리대학교 산학협력단")] == ["M003", "M004"]
    assert plan.event.company("주식회사 로보웨이").demand.requirements[0] == "실내 자율주행을 위한 SLAM"
    assert plan.meetings[1].kind == "bundle" and plan.meetings[1].technologies == ("DEMO-0013", "DEMO-0051")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["event"].update(timezone="Asia/Nowhere"), "unknown timezone 'Asia/Nowhere'"),
    (lambda d: d["meetings"][0].update(slot="11:00"), "slot '11:00' is not a slot of the event; valid: 09:00"),
    (lambda d: d["meetings"][0].update(table=9), "table 9 is out of range; valid: 1 to 3"),
    (lambda d: d["meetings"][0].update(kind="trio"), "kind 'trio' is unknown; valid: single, bundle"),
    (lambda d: d["meetings"][1].update(id="M001"), "'M001' appears twice"),
    (lambda d: d["meetings"][1].update(slot="09:00"), "share slot 09:00 table 1"),
])
def test_a_bad_plan_names_the_value_and_the_valid_ones(plan_data, change, message):
    data = copy.deepcopy(plan_data)
    change(data)
    with pytest.raises(ValidationError, match=re.escape(message)):
        plan_from_dict(data)


def test_a_plan_file_that_is_not_json_names_the_file(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFileError, match="plan.json: not valid JSON"):
        load_plan(bad)
    with pytest.raises(InputFileError, match="no such plan file"):
        load_plan(tmp_path / "missing.json")


def test_a_technology_the_version_lacks_is_refused(admin, plan_data):
    data = copy.deepcopy(plan_data)
    data["meetings"][0]["technologies"] = ["DEMO-9999"]
    with pytest.raises(NotFoundError, match="meeting M001: technology 'DEMO-9999' is not in index version"):
        admin.positions(plan_from_dict(data))


# ---------------------------------------------------------------- slugs
def test_slugs_keep_hangul_and_are_unique():
    assert slug("(주)메디센스") == "주-메디센스"
    assert slug("Pulse Analytics Inc.") == "pulse-analytics-inc"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("***") == "participant"
    assert unique_slugs(["㈜메디센스", "(주)메디센스", "A"]) == {"㈜메디센스": "주-메디센스", "(주)메디센스": "주-메디센스-2",
                                                                  "A": "a"}


# ---------------------------------------------------------------- coverage (the engine)
def test_score_technologies_agrees_with_the_score_table(version):
    matcher = DemandMatcher(version)
    demand = DemandProfile(text="물류센터 AMR", requirements=("실내 자율주행을 위한 SLAM", "물류 박스 인식 비전 AI"))
    table = matcher.score_table(demand)
    chosen = table.positions[:3]
    again = matcher.score_technologies(demand, chosen)
    assert again.positions == sorted(chosen)
    rows = [table.positions.index(p) for p in again.positions]
    np.testing.assert_allclose(again.relevance, table.relevance[rows], atol=1e-9)
    np.testing.assert_allclose(again.whole_relevance, table.whole_relevance[rows], atol=1e-9)


def test_coverage_names_the_best_technology_per_requirement_and_the_gaps(version, plan):
    matcher = DemandMatcher(version)
    demand = plan.event.company("주식회사 로보웨이").demand
    positions = [version.position_of(t) for t in ("DEMO-0013", "DEMO-0051")]
    cov = meeting_coverage(matcher, demand, positions)
    assert [r.text for r in cov.requirements] == list(demand.requirements)
    for row in cov.requirements:
        assert row.technology in {"DEMO-0013", "DEMO-0051"}
        assert row.covered == (row.relevance >= cov.floor)
        best = max(f.per_requirement[row.index] for f in cov.technologies)
        assert row.relevance == pytest.approx(best)
    assert cov.covered + len(cov.gaps) == len(cov.requirements)
    assert {f.technology.id for f in cov.technologies} == {"DEMO-0013", "DEMO-0051"}


def test_requirements_are_split_from_the_text_when_the_demand_lists_none(version, plan):
    demand = plan.event.company("(주)메디센스").demand
    assert not demand.requirements
    cov = meeting_coverage(DemandMatcher(version), demand, [version.position_of("DEMO-0027")])
    assert len(cov.requirements) >= 2  # split_requirements of the text


def test_hidden_technologies_are_not_scored(version):
    from matcher.access import visible_mask

    visible = visible_mask(version.technologies, Viewer("officer", "누리대학교 산학협력단"), version.registry)
    cov = meeting_coverage(DemandMatcher(version), DemandProfile(text="ESS 충방전 스케줄링"),
                           [version.position_of(CONFIDENTIAL)], visible)
    assert cov.technologies == () and all(r.technology is None for r in cov.requirements)


# ---------------------------------------------------------------- meeting page (HTML)
def test_meeting_page_shows_demand_coverage_owners_status_rationale(admin, plan):
    html = _page(admin, plan, "M002")
    for text in ("주식회사 로보웨이", "실내 자율주행을 위한 SLAM", "DEMO-0013", "DEMO-0051", "해담융합에너지연구원",
                 "가온과학기술원", "등록", "Coverage and gaps", "Why license", "bundle"):
        assert text in html, text
    assert re.search(r"covered|gap", html)


def test_rationale_uses_the_licensee_ranker_when_the_company_is_a_candidate(admin, version):
    from matcher.meetings.packets.coverage import Coverage

    # 주식회사 로보웨이 co-applied DEMO-0003 with 한빛대 and owns DEMO-0062 (docking): a ranked candidate
    found = admin.rationales.make("(주)로보웨이", ["DEMO-0003"], Coverage((), (), 0.2), bundle=False)
    assert found.source == "licensee_ranker" and found.rank is not None and "로보웨이" in found.summary
    nobody = admin.rationales.make("없는회사", ["DEMO-0003"], Coverage((), (), 0.2), bundle=False)
    assert nobody.source == "coverage" and "rests on its demand" in nobody.summary


def test_hostile_text_is_escaped(admin, plan_data):
    data = copy.deepcopy(plan_data)
    hostile = '<script>alert("x")</script>'
    data["event"]["name"] = f"Expo {hostile}"
    data["event"]["companies"][0]["name"] = f"ACME {hostile}"
    data["event"]["companies"][0]["demand"]["text"] = f"we need {hostile} SLAM"
    data["meetings"][0]["company"] = data["meetings"][1]["company"] = f"ACME {hostile}"
    data["meetings"][0]["evidence"][0]["why"] = hostile
    plan = plan_from_dict(data)
    pages = [_page(admin, plan, "M001"),
             admin.agenda_page(plan, plan.event.companies[0], admin.agenda_rows(plan, plan.meetings[0].company,
                                                                                  admin.positions(plan)), "a.ics"),
             admin.renderer.html("grid.html", event=plan.event, rows=grid_rows(plan), meetings=6, unscheduled=())]
    for html in pages:
        assert "<script>" not in html
        assert "&lt;script&gt;" in html


def test_templates_autoescape():
    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


# ---------------------------------------------------------------- confidentiality
def test_an_officer_never_sees_another_institutions_confidential_technology(officer, admin, plan):
    assert CONFIDENTIAL in _page(admin, plan, "M005")  # the organiser sees it
    html = _page(officer, plan, "M005")
    assert CONFIDENTIAL not in html and CONFIDENTIAL_TITLE not in html
    assert "ESS 충방전 스케줄링" not in html  # nor the planner's note about it
    assert "1 technology of this meeting is not shown" in html
    where = officer.positions(plan)
    rows = officer.agenda_rows(plan, "해담융합에너지연구원", where)
    ics = agenda_calendar(plan, "해담융합에너지연구원", [r["meeting"] for r in rows],
                          lambda m: "\n".join(t.id for r in rows if r["meeting"] is m for t in r["technologies"]))
    assert CONFIDENTIAL.encode() not in ics
    page = officer.agenda_page(plan, plan.event.institutions[2], rows, "x.ics")
    assert CONFIDENTIAL not in page and CONFIDENTIAL_TITLE not in page


def test_an_officer_of_the_owner_sees_it(version, renderer, plan):
    owner = PacketWriter(version, Viewer("officer", "해담융합에너지연구원"), renderer=renderer)
    assert CONFIDENTIAL in _page(owner, plan, "M005")


def test_an_unknown_officer_institution_is_refused_listing_the_known(version):
    with pytest.raises(ValidationError, match="unknown institution '없는대'; known institutions: .*누리대학교"):
        PacketWriter(version, Viewer("officer", "없는대"))


# ---------------------------------------------------------------- landscape map
def test_the_map_is_deterministic_for_one_version(version, tmp_path, fake_demo_index, fake_encoders, plan):
    first, second = fit_projection(version), fit_projection(version)
    np.testing.assert_array_equal(first.axes, second.axes)
    np.testing.assert_array_equal(first.mean, second.mean)
    cached, path = projection_for(version, tmp_path)
    assert path == tmp_path / f"landscape-{version.name}.json" and path.is_file()
    again, _ = projection_for(version, tmp_path)  # read back from the cache
    np.testing.assert_array_equal(again.axes, first.axes)
    assert again.bounds == first.bounds
    # a freshly loaded copy of the version draws the same picture
    other = IndexStore(fake_demo_index).load(dict(fake_encoders))
    positions = [version.position_of("DEMO-0013"), version.position_of("DEMO-0051")]
    vector = np.ones(first.mean.size) / np.sqrt(first.mean.size)
    one = Landscape(version, first).view(positions, vector)
    two = Landscape(other, fit_projection(other)).view(positions, vector)
    assert one == two
    assert [m.label for m in one.marks] == ["DEMO-0013", "DEMO-0051"] and one.demand is not None


def test_the_map_is_fitted_on_public_rows_and_hides_what_the_viewer_may_not_see(version, officer, plan):
    projection = fit_projection(version)
    landscape = Landscape(version, projection, officer.visible)
    view = landscape.view([version.position_of(CONFIDENTIAL), version.position_of("DEMO-0017")], None)
    assert [m.label for m in view.marks] == ["DEMO-0017"]
    html = officer.meeting_page(plan, plan.meetings[4], officer.positions(plan), landscape)
    assert "<svg" in html and CONFIDENTIAL not in html


def test_the_map_svg_is_in_the_meeting_page(admin, plan, version, tmp_path):
    projection, _ = projection_for(version, tmp_path)
    html = admin.meeting_page(plan, plan.meetings[1], admin.positions(plan), Landscape(version, projection))
    svg = html[html.index("<svg"): html.index("</svg>")]
    assert "DEMO-0013" in svg and "<polygon" in svg and svg.count("<rect") > 5


# ---------------------------------------------------------------- agendas (.ics)
def test_ics_has_one_event_per_meeting_in_local_time(plan):
    name = "누리대학교 산학협력단"
    meetings = plan.meetings_of(name)
    cal = Calendar.from_ical(agenda_calendar(plan, name, meetings))
    events = cal.walk("VEVENT")
    assert len(events) == len(meetings) == 2
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Seoul"]
    first = events[0]
    start, end = first["DTSTART"], first["DTEND"]
    assert start.params["TZID"] == "Asia/Seoul"
    assert start.dt == dt.datetime(2026, 5, 14, 9, 0, tzinfo=start.dt.tzinfo)
    assert start.dt.utcoffset() == dt.timedelta(hours=9)
    assert start.dt.astimezone(dt.UTC) == dt.datetime(2026, 5, 14, 0, 0, tzinfo=dt.UTC)
    assert end.dt - start.dt == dt.timedelta(minutes=30)
    assert "(주)메디센스" in str(first["SUMMARY"]) and name not in str(first["SUMMARY"])
    assert str(first["LOCATION"]) == "누리컨벤션센터 3층, table 2"
    assert str(first["UID"]) == meeting_uid(plan, meetings[0])
    # the same meeting has the same UID in the company's calendar, and across runs
    company = Calendar.from_ical(agenda_calendar(plan, "(주)메디센스", plan.meetings_of("(주)메디센스")))
    assert str(company.walk("VEVENT")[0]["UID"]) == str(first["UID"])
    assert agenda_calendar(plan, name, meetings) == agenda_calendar(plan, name, meetings)


def test_a_participant_without_meetings_gets_an_empty_calendar(plan):
    cal = Calendar.from_ical(agenda_calendar(plan, "㈜바이오젠텍", plan.meetings_of("㈜바이오젠텍")))
    assert cal.walk("VEVENT") == []


# ---------------------------------------------------------------- organiser grid
def test_grid_csv_is_slots_by_tables(plan):
    text = grid_csv(plan)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["slot", "end", "table 1", "table 2", "table 3"]
    assert [r[0] for r in rows[1:]] == ["09:00", "09:30", "10:00"]
    assert rows[1][2] == "M001 주식회사 로보웨이 — 한빛대학교 산학협력단"
    assert rows[2][3] == "M004 (주)메디센스 — 다온공과대학교 산학협력단 + 누리대학교 산학협력단"
    assert rows[1][4] == ""  # table 3 is free at 09:00


def test_grid_csv_defuses_formulas(plan_data):
    data = copy.deepcopy(plan_data)
    data["meetings"][0]["id"] = "=HYPERLINK(1)"
    rows = list(csv.reader(io.StringIO(grid_csv(plan_from_dict(data)).lstrip("\ufeff"))))
    assert rows[1][2].startswith("'=HYPERLINK")


# ---------------------------------------------------------------- fonts
def test_the_korean_font_is_nanum_gothic_first():
    choice = korean_font()
    assert choice.families[0] == "NanumGothic" and choice.css_family.endswith("sans-serif")
    if choice.faces:
        assert "@font-face" in font_css(choice) and "file://" in font_css(choice)


# ---------------------------------------------------------------- the command's bad input (before any model loads)
def test_bad_input_exits_2_naming_it(fake_demo_index, tmp_path, capsys):
    from matcher import cli

    base = ["meetings", "packets", "--index", str(fake_demo_index), "--out", str(tmp_path / "x")]
    assert cli.main([*base, "--plan", str(PLAN), "--role", "guest"]) == 2
    assert "unknown --role 'guest'; valid roles: officer, organiser, admin" in capsys.readouterr().err
    assert cli.main([*base, "--plan", str(tmp_path / "nope.json")]) == 2
    assert "nope.json: no such plan file" in capsys.readouterr().err
    assert cli.main([*base, "--plan", str(PLAN), "--role", "officer", "--institution", "없는대"]) == 2
    assert "unknown institution '없는대'; known institutions:" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
