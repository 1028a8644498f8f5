"""Demand matching and bundles over the demo index (library and CLI contract)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from matcher.build import build_index
from matcher.errors import ValidationError
from matcher.matching.demand import DemandMatcher, filter_predicate, load_demand
from matcher.records import DemandProfile, Technology
from matcher.store import IndexStore
from tests.conftest import DEMO

DEMAND = json.loads((DEMO / "demands.jsonl").read_text(encoding="utf-8").splitlines()[0])


@pytest.fixture(scope="module")
def index_dir(demo_index):
    return demo_index


@pytest.fixture(scope="module")
def matcher(index_dir, minilm, use_m3):
    return DemandMatcher(IndexStore(index_dir).load({"minilm": minilm, "use-m3": use_m3}))


def test_load_demand(tmp_path):
    f = tmp_path / "d.json"
    f.write_text(json.dumps(DEMAND, ensure_ascii=False), encoding="utf-8")
    d = load_demand(str(f))
    assert d.requirements == tuple(DEMAND["requirements"]) and d.filters == DEMAND["filters"]
    assert load_demand("배터리 관리 기술이 필요합니다").text.startswith("배터리")
    assert load_demand("가" * 5000).text  # a long text is not mistaken for a path
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="bad.json: not valid JSON"):
        load_demand(str(bad))


def test_filters():
    t = Technology(id="T1", title="x", ipc=("G05D 1/02",), legal_status="등록", application_date="2019-01-01", trl=5,
                   institutions=("A대학교",))
    assert filter_predicate({"ipc_prefixes": ["G05D"], "legal_status": ["등록"], "trl_min": 4})(t)
    assert not filter_predicate({"date_from": "2020-01-01"})(t)
    assert not filter_predicate({"institutions": ["B연구원"]})(t)
    with pytest.raises(ValidationError, match="unknown filter.*valid: institutions, ipc_prefixes"):
        filter_predicate({"colour": "red"})


def test_match_with_evidence(matcher):
    demand = DemandProfile.from_dict({k: DEMAND[k] for k in ("text", "requirements", "filters")})
    reqs, matches = matcher.match(demand, 5)
    assert reqs == list(DEMAND["requirements"])
    assert matches and all(m.technology.trl is not None and m.technology.trl >= 4 for m in matches)
    top = matches[0].to_dict()
    assert {"id", "score", "title", "institutions", "covers", "evidence"} <= set(top)
    assert top["covers"] and top["evidence"]["best_sentence"] and top["evidence"]["shared_terms"]
    covered = {j for m in matches for j in m.covers}
    assert len(covered) >= 2


def _members_cover(bundle: dict) -> bool:
    covering = {m for row in bundle["coverage"] for m in row["members"]}
    return set(bundle["members"]) <= covering


def test_bundles_span_institutions(matcher):
    demand = DemandProfile(requirements=tuple(DEMAND["requirements"]))
    first = matcher.bundles(demand, top_n=3).to_dict()
    assert first == matcher.bundles(demand, top_n=3).to_dict()  # deterministic
    assert first["bundles"] and first["verdict"] in ("single_institution", "convergence", "partial")
    for b in first["bundles"]:
        assert _members_cover(b), b  # no passenger members
        if b["kind"] == "convergence":
            assert len(set(b["institutions"])) >= 2 and 2 <= len(b["members"]) <= 4
        else:
            assert len(set(b["institutions"])) == 1
        assert {c["requirement"] for c in b["coverage"]} == set(range(len(DEMAND["requirements"])))
        assert all(0.0 <= c["relevance"] <= 1.0 for c in b["coverage"])
        assert isinstance(b["gaps"], list)
    assert first["bundles"][0]["gaps"] == []


def test_single_institution_is_said_and_not_padded(matcher):
    """Two technologies of one institution: the answer says that institution covers the demand alone and
    every convergence option covers as well or better, with no member that covers nothing."""
    techs = matcher.version.technologies
    hanbit = [t for t in techs if t.institutions == ("한빛대학교 산학협력단",) and t.active and not t.confidential]
    out = matcher.bundles(DemandProfile(requirements=(hanbit[0].title, hanbit[-1].title)), top_n=5).to_dict()
    assert out["verdict"] == "single_institution", out["message"]
    assert out["single_institution"]["institution"] == "한빛대학교 산학협력단"
    assert "alone covers" in out["message"]
    first = out["bundles"][0]
    assert first["kind"] == "single_institution" and first["institutions"] == ["한빛대학교 산학협력단"]
    for b in out["bundles"]:
        assert _members_cover(b), b
        if b["kind"] == "convergence":
            assert b["covered"] == first["covered"] and b["relevance"] >= first["relevance"]


def test_inactive_records_are_never_proposed_unless_asked(matcher):
    techs = matcher.version.technologies
    dead = next(t for t in techs if not t.active and t.institutions and not t.confidential)
    demand = DemandProfile(requirements=(dead.title,))
    ids = [m.technology.id for m in matcher.match(demand, 10, min_relevance=0.0).matches]
    assert dead.id not in ids and ids
    bundles = matcher.bundles(demand).to_dict()
    assert all(dead.id not in b["members"] for b in bundles["bundles"])
    again = matcher.match(demand, 10, include_inactive=True).to_dict()
    assert again["matches"][0]["id"] == dead.id and again["matches"][0]["active"] is False
    assert again["matches"][0]["legal_status"] == dead.legal_status
    assert {"legal_status", "active", "application_date", "registration_date", "trl", "relevance"} <= set(
        again["matches"][0])


def test_company_owned_records_are_not_offered(matcher):
    techs = matcher.version.technologies
    own = next(t for t in techs if not t.institutions)
    ids = [m.technology.id for m in matcher.match(DemandProfile(requirements=(own.title,)), 10,
                                                 min_relevance=0.0).matches]
    assert own.id not in ids


def test_institution_filter_by_any_spelling(matcher):
    canonical = "누리대학교 산학협력단"
    for spelling in ("누리대", "누리대학교산학협력단", "Nuri University Industry-Academic Cooperation Foundation"):
        found = matcher.match(DemandProfile(text="웨어러블 생체신호 측정", filters={"institutions": [spelling]}), 5,
                              min_relevance=0.0).matches
        assert found and all(canonical in m.technology.institutions for m in found)
    with pytest.raises(ValidationError, match="unknown institution.*known institutions: .*누리대학교 산학협력단"):
        matcher.match(DemandProfile(text="웨어러블", filters={"institutions": ["없는대학교"]}), 5)


def test_scores_are_calibrated_relevance(matcher):
    result = matcher.match(DemandProfile(text="리튬이온 배터리 충전상태 추정"), 10, min_relevance=0.0).to_dict()
    assert result["matches"] and all(0.0 <= m["relevance"] <= 1.0 for m in result["matches"])
    assert all(0.0 <= c <= 1.0 for m in result["matches"] for c in m["coverage"])
    values = [m["relevance"] for m in result["matches"]]
    assert values == sorted(values, reverse=True)


def test_cli_contract(index_dir, tmp_path):
    f = tmp_path / "d.json"
    f.write_text(json.dumps(DEMAND, ensure_ascii=False), encoding="utf-8")
    base = [sys.executable, "-m", "service.cli"]
    out = subprocess.run([*base, "match", "--index", str(index_dir), "--demand", str(f), "--json", "--top-k", "3"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    rows = result["matches"]
    assert 1 <= len(rows) <= 3 and result["no_good_match"] is False
    assert all({"id", "relevance", "score", "title", "institutions", "legal_status", "active", "trl", "covers",
                "evidence"} <= set(r) for r in rows)
    out = subprocess.run([*base, "bundles", "--index", str(index_dir), "--demand", str(f), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert {"requirements", "gaps", "verdict", "message", "bundles"} <= set(answer)
    assert answer["bundles"] and all({"kind", "members", "institutions", "relevance", "coverage", "gaps"} <= set(b)
                                     for b in answer["bundles"])


def test_groups_built_with_the_index(index_dir, demo_corpus, minilm, use_m3):
    base = [sys.executable, "-m", "service.cli"]
    out = subprocess.run([*base, "groups", "--index", str(index_dir), "--json"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    groups = json.loads(out.stdout)
    assert groups and all({"id", "label", "members", "institutions"} <= set(g) for g in groups)
    assert sum(len(g["members"]) for g in groups) == IndexStore(index_dir).read_manifest()["count"]
    before = {g["id"]: set(g["members"]) for g in groups}
    build_index(demo_corpus, index_dir, encoders={"minilm": minilm, "use-m3": use_m3})  # unchanged corpus
    manifest = IndexStore(index_dir).read_manifest()
    assert manifest["groups"]["stability_vs_previous"] == 1.0
    after = json.loads(subprocess.run([*base, "groups", "--index", str(index_dir), "--json"], capture_output=True,
                                      text=True, timeout=300).stdout)
    assert {g["id"] for g in after} == set(before)  # same ids; members may shift at the margins
    for g in after:
        assert len(set(g["members"]) & before[g["id"]]) > len(before[g["id"]]) / 2


def test_title_overlap():
    from matcher.retrieval.relevance import title_overlap

    assert title_overlap({"리튬", "황", "이차", "전지"}, {"리튬", "황", "이차", "전지"}) == 1.0
    long_title = {"양극", "활물질", "제조", "방법", "포함", "리튬", "이차", "전지"}
    assert title_overlap({"리튬", "황", "이차", "전지"}, long_title) < 0.6
    assert title_overlap(set(), long_title) == 0.0


def test_requirements_naming_titles_recover_those_technologies(matcher):
    techs = matcher.version.technologies
    first = techs[0]
    other = next(t for t in techs if not set(t.institutions) & set(first.institutions) and not t.confidential)
    out = matcher.bundles(DemandProfile(requirements=(first.title, other.title)), top_n=3).to_dict()
    assert set(out["bundles"][0]["members"]) == {first.id, other.id}
    # the free form: one Korean sentence joining the two names
    def batchim(word: str) -> bool:
        return (ord(word[-1]) - 0xAC00) % 28 != 0

    text = f"{first.title}{'과' if batchim(first.title) else '와'} {other.title}{'을' if batchim(other.title) else '를'} 결합한 기술이 필요합니다"
    out = matcher.bundles(DemandProfile(text=text), top_n=3).to_dict()
    assert len(out["requirements"]) == 2
    assert {first.id, other.id} <= set(out["bundles"][0]["members"])
