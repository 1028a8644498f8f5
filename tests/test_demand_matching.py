"""Demand matching and bundles over the demo index (library and CLI contract)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from matcher.build import build_index
from matcher.errors import ValidationError
from matcher.index import IndexStore
from matcher.matching.demand import DemandMatcher, filter_predicate, load_demand
from matcher.records import DemandProfile, Technology
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


def test_bundles_span_institutions(matcher):
    demand = DemandProfile(requirements=tuple(DEMAND["requirements"]))
    first = matcher.bundles(demand, top_n=3)
    assert first == matcher.bundles(demand, top_n=3)  # deterministic
    assert first["bundles"]
    for b in first["bundles"]:
        assert len(set(b["institutions"])) >= 2 and 2 <= len(b["members"]) <= 4
        assert {c["requirement"] for c in b["coverage"]} == set(range(len(DEMAND["requirements"])))
        assert isinstance(b["gaps"], list)
    assert first["bundles"][0]["gaps"] == []


def test_cli_contract(index_dir, tmp_path):
    f = tmp_path / "d.json"
    f.write_text(json.dumps(DEMAND, ensure_ascii=False), encoding="utf-8")
    base = [sys.executable, "-m", "matcher.cli"]
    out = subprocess.run([*base, "match", "--index", str(index_dir), "--demand", str(f), "--json", "--top-k", "3"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 3 and all({"id", "score", "title", "institutions", "covers", "evidence"} <= set(r) for r in rows)
    out = subprocess.run([*base, "bundles", "--index", str(index_dir), "--demand", str(f), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    bundles = json.loads(out.stdout)
    assert bundles and all({"members", "institutions", "score", "coverage", "gaps"} <= set(b) for b in bundles)


def test_groups_built_with_the_index(index_dir, demo_corpus, minilm, use_m3):
    base = [sys.executable, "-m", "matcher.cli"]
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
    from matcher.matching.demand import title_overlap

    assert title_overlap({"리튬", "황", "이차", "전지"}, {"리튬", "황", "이차", "전지"}) == 1.0
    long_title = {"양극", "활물질", "제조", "방법", "포함", "리튬", "이차", "전지"}
    assert title_overlap({"리튬", "황", "이차", "전지"}, long_title) < 0.6
    assert title_overlap(set(), long_title) == 0.0


def test_requirements_naming_titles_recover_those_technologies(matcher):
    techs = matcher.version.technologies
    first = techs[0]
    other = next(t for t in techs if not set(t.institutions) & set(first.institutions) and not t.confidential)
    out = matcher.bundles(DemandProfile(requirements=(first.title, other.title)), top_n=3)
    assert set(out["bundles"][0]["members"]) == {first.id, other.id}
    # the free form: one Korean sentence joining the two names
    def batchim(word: str) -> bool:
        return (ord(word[-1]) - 0xAC00) % 28 != 0

    text = f"{first.title}{'과' if batchim(first.title) else '와'} {other.title}{'을' if batchim(other.title) else '를'} 결합한 기술이 필요합니다"
    out = matcher.bundles(DemandProfile(text=text), top_n=3)
    assert len(out["requirements"]) == 2
    assert {first.id, other.id} <= set(out["bundles"][0]["members"])
