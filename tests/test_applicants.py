"""Applicant splitting (space-joined lists), kinds and institutions."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from matcher.companies.forms import LEGAL_FORMS
from matcher.ingest.applicants import (
    UNIT_SUFFIXES,
    applicant_kind,
    institutions_of,
    split_applicants,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("가나대학교 산학협력단 미래테크(주)", ("가나대학교 산학협력단", "미래테크(주)")),
        (
            "주식회사 가상바이오 나라약품 주식회사 가나대학교 산학협력단",
            ("주식회사 가상바이오", "나라약품 주식회사", "가나대학교 산학협력단"),
        ),
        ("다온 주식회사 가나대학교 산학협력단", ("다온 주식회사", "가나대학교 산학협력단")),
        (
            "가나대학교 산학협력단 베타건설 주식회사 에이비씨기술 주식회사 (주)가상엔지니어링",
            (
                "가나대학교 산학협력단",
                "베타건설 주식회사",
                "에이비씨기술 주식회사",
                "(주)가상엔지니어링",
            ),
        ),
        ("(주) 가상방재기술단", ("(주) 가상방재기술단",)),
        ("홍길동 성춘향", ("홍길동", "성춘향")),
        ("가나대학교 멀티미디어연구센터 이몽룡", ("가나대학교 멀티미디어연구센터", "이몽룡")),
        ("가나대학교 산학협력단", ("가나대학교 산학협력단",)),
        ("재단법인 가상연구재단 홍길동", ("재단법인 가상연구재단", "홍길동")),
        (
            "대한민국(관리부처: 가상청) 가나대학교 산학협력단",
            ("대한민국(관리부처: 가상청)", "가나대학교 산학협력단"),
        ),
        ("㈜ 가상소재 주식회사 가상전자", ("㈜ 가상소재", "주식회사 가상전자")),
        ("", ()),
    ],
)
def test_split_space_joined(cell: str, expected: tuple[str, ...]) -> None:
    assert split_applicants(cell) == expected


def test_split_on_a_separator() -> None:
    assert split_applicants("가나대학교 산학협력단|주식회사 한빛소재| ") == (
        "가나대학교 산학협력단",
        "주식회사 한빛소재",
    )
    assert split_applicants("가 나;다", separator=";") == ("가 나", "다")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("가나대학교 산학협력단", "university"),
        ("가나대학교산학협력단", "university"),
        ("라마과학기술원", "institute"),
        ("한국가상연구원", "institute"),
        ("재단법인 가상연구재단", "institute"),
        ("다라대학교병원", "hospital"),
        ("대한민국(가상청장)", "government"),
        ("가상광역시", "government"),
        ("주식회사 한빛소재", "company"),
        ("미래테크(주)", "company"),
        ("베타건설", "company"),
        ("Example Robotics Co., Ltd.", "company"),
        ("홍길동", "person"),
        ("남궁민수", "person"),
    ],
)
def test_kinds(name: str, kind: str) -> None:
    assert applicant_kind(name) == kind


def test_institutions_of() -> None:
    applicants = (
        "주식회사 한빛소재",
        "가나대학교 산학협력단",
        "홍길동",
        "다라병원",
        "라마기술연구원",
        "대한민국(관리부처: 가상청)",
    )
    assert institutions_of(applicants) == (
        "가나대학교 산학협력단",
        "다라병원",
        "라마기술연구원",
        "대한민국(관리부처: 가상청)",
    )


@pytest.mark.shared
def test_real_inu_applicant_column_splits_plausibly() -> None:
    path = SHARED / "kipris-inu" / "inu_patents_dev.csv"
    if not path.is_file():
        pytest.skip(f"real data not present at {path}")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    column = next(i for i, name in enumerate(rows[0]) if name.startswith("출원인"))
    bare = LEGAL_FORMS | set(UNIT_SUFFIXES)
    cells = [row[column] for row in rows[1:] if row[column].strip()]
    for cell in cells:
        names = split_applicants(cell)
        assert names, cell
        assert not any(n in bare for n in names), (cell, names)
        assert " ".join(names).split() == cell.split()  # no token lost or invented
    kinds = [applicant_kind(n) for cell in cells for n in split_applicants(cell)]
    assert kinds.count("university") >= len(cells) * 0.8  # the university is an applicant of most rows
    assert all(
        institutions_of(split_applicants(c))
        or applicant_kind(split_applicants(c)[0]) in ("person", "company")
        for c in cells
    )
