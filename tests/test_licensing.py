"""Licensee candidates: directory, owner exclusion, volume, evidence, confidentiality and the CLI contract."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from matcher.build import build_index
from matcher.errors import NotFoundError, ValidationError
from matcher.ingest.corpus import Corpus
from matcher.licensing import CompanyDirectory, LicenseeRanker
from matcher.licensing.ranker import expected_max
from matcher.records import Company, DemandProfile, Technology
from matcher.retrieval.config import resolve_pipeline
from matcher.store import IndexStore

UNI = "가온대학교 산학협력단"


def _tech(i: int, title: str, abstract: str, applicants: tuple[str, ...]) -> Technology:
    from matcher.ingest.applicants import institutions_of

    return Technology(id=f"T{i:03d}", title=title, abstract=abstract, applicants=applicants,
                      institutions=institutions_of(applicants), language="ko")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A lexical-only index: one exact-match 1-patent company against a 90-patent unrelated one."""
    techs = [
        _tech(0, "수소 연료전지 분리판 코팅", "수소 연료전지 금속 분리판의 내식성 코팅 방법", (UNI,)),
        _tech(1, "연료전지 분리판 내식성 코팅 장치", "수소 연료전지 금속 분리판 내식성 코팅 장치와 방법",
              ("주식회사 하이젠", UNI)),
    ]
    topics = ["식품 포장 필름", "농업용 드론 방제", "건축 외장 패널", "의류 염색 공정", "가구 접합 구조", "제지 표백"]
    for i in range(90):
        topic = topics[i % len(topics)]
        techs.append(_tech(2 + i, f"{topic} 개선 {i}", f"{topic}에 관한 개량 기술 {i}번", ("(주)대량특허",)))
    techs.append(_tech(92, "사람 이름 출원", "개인 출원 기술", ("홍길동",)))
    corpus = Corpus(technologies=techs, companies=[
        Company(name="주식회사 하이젠", aliases=("㈜하이젠", "HyGen Co., Ltd."), description="수소 연료전지 부품 제조")],
        institutions=[], demands=[DemandProfile(id="D1", company="(주)하이젠", text="연료전지 분리판 코팅 기술 수요")])
    root = tmp_path_factory.mktemp("lic") / "index"
    build_index(corpus, root, resolve_pipeline("bm25"), keep_versions=1)
    return IndexStore(root).load({})


def test_directory_merges_spellings_and_skips_persons(toy):
    d = CompanyDirectory.build(toy.technologies, toy.companies, toy.demands)
    hygen = d.get("㈜하이젠")
    assert hygen is not None and hygen is d.get("HyGen Co., Ltd.") and hygen is d.get("주식회사 하이젠")
    assert hygen.patents == [1] and hygen.demands == [0] and hygen.description
    assert set(hygen.coapplications) == {d.get(UNI).key}
    assert d.get("홍길동") is None  # persons are not organisations
    assert {m["name"] for m in d.merges()} >= {"주식회사 하이젠"}


def test_volume_does_not_dominate(toy):
    found = LicenseeRanker(toy).rank(text="수소 연료전지 분리판 코팅", top_k=5)
    assert found[0].org.name == "주식회사 하이젠"
    assert not any("대량특허" in c.org.name for c in found)  # 90 unrelated patents: not topical, not a candidate
    ungated = LicenseeRanker(toy, floor=0.0).rank(text="수소 연료전지 분리판 코팅", top_k=5)
    big = next(c for c in ungated if "대량특허" in c.org.name)
    assert big.score < ungated[0].score and big.portfolio_size == 90
    assert expected_max(1) == 0.0 and expected_max(90) > expected_max(10) > 0


def test_owner_excluded_and_evidence_for_every_candidate(toy):
    ranker = LicenseeRanker(toy)
    for include in (False, True):
        found = ranker.rank(technology_id="T000", top_k=10, include_institutions=include)
        assert found and all(c.org.key != CompanyDirectory.build(toy.technologies).get(UNI).key for c in found)
        for c in found:
            row = c.to_dict()
            assert row["evidence"] and set(row["signals"]) == {"portfolio", "coapplication", "demands", "industry"}
            assert abs(sum(row["signals"].values()) - row["score"]) < 1e-3
    top = ranker.rank(technology_id="T000", top_k=1)[0].to_dict()
    assert top["company"] == "주식회사 하이젠"
    types = {e["type"] for e in top["evidence"]}
    assert {"portfolio", "coapplication"} <= types  # T001 is both a close patent and a joint application


def test_leave_one_out_query_is_not_its_own_evidence(toy):
    found = LicenseeRanker(toy).rank(technology_id="T001", top_k=3)
    assert all(e.get("id") != "T001" for c in found for e in c.evidence)


def test_visibility_and_errors(toy):
    ranker = LicenseeRanker(toy)
    hidden = np.ones(len(toy.technologies), dtype=bool)
    hidden[1] = False  # the company's only patent is not visible to this viewer
    found = ranker.rank(text="수소 연료전지 분리판 코팅", top_k=10, visible=hidden)
    assert all(e.get("id") != "T001" for c in found for e in c.evidence)
    with pytest.raises(NotFoundError):
        ranker.rank(technology_id="T001", visible=hidden)
    with pytest.raises(NotFoundError):
        ranker.rank(technology_id="NOPE")
    with pytest.raises(ValidationError, match="exactly one"):
        ranker.rank(technology_id="T000", text="x")
    with pytest.raises(ValidationError, match="top_k"):
        ranker.rank(text="x", top_k=0)


def test_cli_contract(demo_index):
    out = subprocess.run([sys.executable, "-m", "service.cli", "licensees", "--index", str(demo_index),
                          "--technology", "DEMO-0001", "--json", "--top-k", "5"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    rows = answer["candidates"]
    assert rows and all({"company", "relevance", "score", "evidence"} <= set(r) and r["evidence"] for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    bad = subprocess.run([sys.executable, "-m", "service.cli", "licensees", "--index", str(demo_index),
                          "--technology", "NOPE"], capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "NOPE" in bad.stderr


def test_plausible_licensees_on_the_demo(demo_index, minilm, use_m3):
    """Topical fit decides who is a candidate: for the logistics-box vision technology the logistics-vision
    company comes first through its own vision patent; the ECG-patch maker (a past ECG demand, a
    blood-pressure patent) is not proposed; no institution is proposed as a company; every number shown is
    in [0, 1]; a lapsed technology is not offered unless asked; an off-topic text has no good match."""
    version = IndexStore(demo_index).load({"minilm": minilm, "use-m3": use_m3})
    ranker = LicenseeRanker(version)
    found = ranker.rank(technology_id="DEMO-0051", top_k=5)
    assert found[0].org.name == "(주)딥비전웍스"
    assert "DEMO-0068" in {e["id"] for e in found[0].evidence if e["type"] == "portfolio"}
    assert all("메디센스" not in c.org.name for c in found)
    for tid in ("DEMO-0001", "DEMO-0013", "DEMO-0028", "DEMO-0051", "DEMO-0061"):
        for c in ranker.rank(technology_id=tid, top_k=10):
            row = c.to_dict()
            assert row["kind"] == "company" and "메디컬센터" not in row["company"] and "병원" not in row["company"]
            assert 0.0 <= row["relevance"] <= 1.0
            assert any(e["type"] == "portfolio" for e in row["evidence"])
            assert all(0.0 <= e[k] <= 1.0 for e in row["evidence"] for k in ("relevance", "similarity") if k in e)
    dead = next(t for t in version.technologies if not t.active and t.institutions)
    with pytest.raises(ValidationError, match="not offered for licence"):
        ranker.rank(technology_id=dead.id)
    ranker.rank(technology_id=dead.id, include_inactive=True)
    off = ranker.rank(text="조선소 선박 블록 용접 자동화 로봇", top_k=5)
    assert off.no_good_match and off.to_dict()["message"]
