"""Licensee candidates: directory, owner exclusion, volume, evidence, confidentiality and the CLI contract."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from matcher.build import build_index
from matcher.errors import NotFoundError, ValidationError
from matcher.index import IndexStore
from matcher.ingest.corpus import Corpus
from matcher.licensing import CompanyDirectory, LicenseeRanker
from matcher.licensing.ranker import expected_max
from matcher.records import Company, DemandProfile, Technology
from matcher.retrieval.config import resolve_pipeline

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
    ranker = LicenseeRanker(toy)
    found = ranker.rank(text="수소 연료전지 분리판 코팅", top_k=5)
    assert found[0].org.name == "주식회사 하이젠"
    big = next(c for c in found if "대량특허" in c.org.name)
    assert big.score < found[0].score and big.portfolio_size == 90
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
    out = subprocess.run([sys.executable, "-m", "matcher.cli", "licensees", "--index", str(demo_index),
                          "--technology", "DEMO-0001", "--json", "--top-k", "5"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows and all({"company", "score", "evidence"} <= set(r) and r["evidence"] for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    bad = subprocess.run([sys.executable, "-m", "matcher.cli", "licensees", "--index", str(demo_index),
                          "--technology", "NOPE"], capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "NOPE" in bad.stderr
