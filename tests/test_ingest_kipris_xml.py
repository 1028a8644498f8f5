"""KIPRIS Plus XML reader: fields, ids, dates, de-duplication across pages, truncated files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from matcher.ingest import ingest_paths
from matcher.ingest.kipris_xml import XML_COLUMNS, read_kipris_xml
from matcher.ingest.spec import load_spec

FIXTURES = Path(__file__).parent / "fixtures" / "ingest" / "kipris_xml"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]


def _accounted(report) -> None:
    assert report.read == report.ingested + report.duplicates + report.rejected
    for f in report.files:
        assert f.read == f.ingested + f.duplicates + f.rejected, f


def test_fields_ids_and_dates() -> None:
    result = ingest_paths([FIXTURES])
    by_id = {t.id: t for t in result.technologies}
    assert list(by_id) == ["KR1020210000001", "KR1020190000002", "KR1020180000003", "KR2020200000004"]
    first = by_id["KR1020210000001"]
    assert first.title == "수소 연료전지용 고분자 전해질막 및 그 제조방법"
    assert first.applicants == ("가나대학교 산학협력단", "주식회사 한빛소재")
    assert first.institutions == ("가나대학교 산학협력단",)
    assert first.ipc == ("H01M 8/1018", "H01M 8/1039")
    assert first.application_number == "1020210000001"
    assert first.application_date == "2021-03-15"
    assert (first.publication_number, first.publication_date) == ("1020220120001", "2022-09-20")
    assert first.registration_number is None and first.registration_date is None
    assert first.legal_status == "공개"
    assert first.language == "ko" and first.kind == "patent"
    assert first.source_row == 1 and first.source_file.endswith("acme/1.xml")
    assert '"균일한"' in by_id["KR1020190000002"].abstract  # entities decoded
    assert by_id["KR1020180000003"].institutions == ("다라병원", "대한민국(관리부처: 가상청)")
    utility = by_id["KR2020200000004"]
    assert utility.kind == "utility"
    assert (utility.publication_number, utility.publication_date) == (
        "2020210000044",
        "2021-01-15",
    )  # 공고 fallback
    assert utility.legal_status == "소멸"


def test_repeat_across_pages_is_a_duplicate() -> None:
    report = ingest_paths([FIXTURES]).report
    assert (report.read, report.ingested, report.duplicates, report.rejected) == (5, 4, 1, 0)
    [dup] = report.duplicates_list
    assert dup.id == "KR1020180000003"
    assert dup.file.endswith("acme/2.xml") and dup.row == 1
    assert dup.kept_file.endswith("acme/1.xml") and dup.kept_row == 3
    assert report.warnings == []  # identical content: no warning
    _accounted(report)


def test_differing_duplicate_warns_naming_both_places(tmp_path: Path) -> None:
    page = (FIXTURES / "acme" / "2.xml").read_text(encoding="utf-8")
    (tmp_path / "a.xml").write_text(
        (FIXTURES / "acme" / "1.xml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "b.xml").write_text(
        page.replace("웨어러블 심전도 측정 패치", "웨어러블 심전도 패치 개량"), encoding="utf-8"
    )
    result = ingest_paths([tmp_path])
    assert result.report.duplicates == 1
    [warning] = result.report.warnings
    assert warning.file.endswith("b.xml") and warning.row == 1 and warning.field == "title"
    assert "a.xml:3" in warning.message and "first is kept" in warning.message
    kept = next(t for t in result.technologies if t.id == "KR1020180000003")
    assert kept.title == "웨어러블 심전도 측정 패치"


def test_truncated_file_keeps_complete_items(tmp_path: Path) -> None:
    text = (FIXTURES / "acme" / "1.xml").read_text(encoding="utf-8")
    cut = text.index("<InventionName>웨어러블")  # inside the third item
    bad = tmp_path / "cut.xml"
    bad.write_text(text[:cut], encoding="utf-8")
    outcome = read_kipris_xml(bad, "cut.xml")
    assert [row for row, _ in outcome.records] == [1, 2]
    [reject] = outcome.rejects
    assert reject.row == 3 and reject.field == "(file)"
    assert re.search(r"line \d+, column \d+", reject.reason) and "2 complete items" in reject.reason
    assert outcome.read == 3


def test_error_response_and_foreign_xml_are_file_rejects(tmp_path: Path) -> None:
    (tmp_path / "err.xml").write_text(
        "<response><header><resultCode>30</resultCode><resultMsg>SERVICE KEY ERROR</resultMsg></header>"
        "<body><items/></body></response>",
        encoding="utf-8",
    )
    (tmp_path / "other.xml").write_text("<rss><channel><title>x</title></channel></rss>", encoding="utf-8")
    (tmp_path / "ok.xml").write_text(
        (FIXTURES / "acme" / "2.xml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    report = ingest_paths([tmp_path]).report
    reasons = {r.file.rsplit("/", 1)[-1]: r for r in report.rejects}
    assert "SERVICE KEY ERROR" in reasons["err.xml"].reason and reasons["err.xml"].row == 0
    assert "not a KIPRIS Plus response" in reasons["other.xml"].reason
    assert report.ingested == 2
    _accounted(report)


def test_euc_kr_declared_xml(tmp_path: Path) -> None:
    text = (
        (FIXTURES / "acme" / "2.xml")
        .read_text(encoding="utf-8")
        .replace('encoding="UTF-8"', 'encoding="EUC-KR"')
    )
    path = tmp_path / "euckr.xml"
    path.write_bytes(text.encode("euc-kr"))
    result = ingest_paths([path])
    assert [t.title for t in result.technologies][1] == "접이식 태양광 모듈 거치대"
    assert result.report.files[0].encoding == "euc-kr"


def test_spec_file_documents_the_default_mapping() -> None:
    [source] = load_spec(REPO / "corpora" / "specs" / "kipris-plus-xml.toml")
    assert source.format == "kipris-xml" and source.path is None
    assert source.columns == XML_COLUMNS
    assert (
        ingest_paths([FIXTURES], spec=REPO / "corpora" / "specs" / "kipris-plus-xml.toml").report.ingested
        == 4
    )


@pytest.mark.shared
def test_real_kipris_plus_xml_counts() -> None:
    root = SHARED / "kipris-plus-xml"
    if not root.is_dir():
        pytest.skip(f"real data not present at {root}")
    files = sorted(root.rglob("*.xml"))
    numbers = []
    for path in files:
        numbers += re.findall(
            r"<ApplicationNumber>\s*(\d+)\s*</ApplicationNumber>", path.read_text(encoding="utf-8")
        )
    result = ingest_paths([root])
    report = result.report
    assert len(report.files) == len(files)
    assert report.read == len(numbers)
    assert report.ingested == len(set(numbers)) == len(result.technologies)
    assert report.duplicates == len(numbers) - len(set(numbers))
    assert report.rejected == 0
    _accounted(report)
    assert {t.id for t in result.technologies} == {"KR" + n for n in numbers}
    assert all(t.application_date and len(t.application_date) == 10 for t in result.technologies)
