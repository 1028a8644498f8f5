"""Company-name normalisation: keys, non-merges, display names, grouping and the merges report."""

from __future__ import annotations

import pytest

from matcher.companies import (
    KNOWN_ALIASES,
    KNOWN_RENAMES,
    CompanyName,
    company_key,
    display_name,
    group_company_names,
    merges_report,
    strip_legal_forms,
)
from matcher.companies.forms import COMPANY_FORMS
from tests.conftest import shared_path


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        # Korean stock-company forms: prefix, suffix, glued, abbreviated, spaced inside parentheses
        ("주식회사 가나테크", "가나테크"),
        ("가나테크 주식회사", "가나테크"),
        ("가나테크주식회사", "가나테크"),
        ("주식회사가나테크", "가나테크"),
        ("(주)가나테크", "가나테크"),
        ("(주) 가나테크", "가나테크"),
        ("가나테크(주)", "가나테크"),
        ("가나테크 (주)", "가나테크"),
        ("㈜가나테크", "가나테크"),
        ("가나테크㈜", "가나테크"),
        ("( 주 ) 가나테크", "가나테크"),
        ("(주 )가나테크", "가나테크"),
        ("（주）가나테크", "가나테크"),  # full-width parentheses (NFKC)
        ("주) 가나테크", "가나테크"),  # broken parenthesis at the start
        ("가나테크 (주", "가나테크"),  # broken parenthesis at the end
        # spacing and punctuation
        ("가나 테크", "가나테크"),
        ("  가나   테크  주식회사 ", "가나테크"),
        ("가나·테크", "가나테크"),
        ("가나-테크", "가나테크"),
        ("'가나테크'", "가나테크"),
        ("[가나테크]", "가나테크"),
        # other Korean forms
        ("유한회사 가나테크", "가나테크"),
        ("가나테크 유한회사", "가나테크"),
        ("(유)가나테크", "가나테크"),
        ("가나테크 유한책임회사", "가나테크"),
        ("합자회사 가나테크", "가나테크"),
        ("합명회사 가나테크", "가나테크"),
        ("농업회사법인 가나테크", "가나테크"),
        ("농업회사법인 주식회사 가나테크", "가나테크"),
        ("어업회사법인 가나테크 주식회사", "가나테크"),
        ("가나테크영농조합법인", "가나테크"),
        # foreign forms, Latin and Hangul
        ("가나테크 Co., Ltd.", "가나테크"),
        ("Ganatech Co., Ltd.", "Ganatech"),
        ("GANATECH CO.,LTD", "Ganatech"),
        ("Ganatech Co.Ltd.", "Ganatech"),
        ("Ganatech Co., Ltd", "Ganatech"),
        ("Ganatech, Inc.", "Ganatech"),
        ("Ganatech Inc", "Ganatech"),
        ("Ganatech Corp.", "Ganatech"),
        ("Ganatech Corporation", "Ganatech"),
        ("Ganatech Company Limited", "Ganatech"),
        ("Ganatech Limited", "Ganatech"),
        ("Ganatech LLC", "Ganatech"),
        ("Ganatech GmbH", "Ganatech"),
        ("Ganatech GmbH & Co. KG", "Ganatech"),
        ("Ganatech AG", "Ganatech"),
        ("Ganatech K.K.", "Ganatech"),
        ("Kabushiki Kaisha Ganatech", "Ganatech"),
        ("ganatech", "GANATECH"),  # casefold
        ("가나테크 인코포레이티드", "가나테크"),
        ("가나테크 코포레이션", "가나테크"),
        ("가나테크 컴퍼니 리미티드", "가나테크"),
        ("가나테크 가부시키가이샤", "가나테크"),
        # Korean spellings of Latin initials (KNOWN_ALIASES)
        ("에스케이하이닉스 주식회사", "SK하이닉스"),
        ("엘지전자 주식회사", "LG전자"),
        ("주식회사 케이티", "KT"),
        ("씨제이제일제당 주식회사", "CJ제일제당"),
        ("지에스칼텍스 주식회사", "GS칼텍스"),
        ("주식회사 케이티앤지", "KT&G"),
        ("에쓰대시오일 주식회사", "S-OIL Corporation"),
        ("삼성에스디아이 주식회사", "삼성SDI"),
        # a renamed company (KNOWN_RENAMES)
        ("기아자동차주식회사", "기아 주식회사"),
    ],
)
def test_variants_share_the_key(variant: str, canonical: str) -> None:
    assert company_key(variant) == company_key(canonical)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("삼성전자 주식회사", "삼성에스디아이 주식회사"),
        ("삼성전자 주식회사", "삼성SDI"),
        ("삼성전자 주식회사", "삼성디스플레이 주식회사"),
        ("삼성에스디아이 주식회사", "삼성에스디에스 주식회사"),
        ("삼성디스플레이 주식회사", "삼성SDI"),
        ("현대자동차주식회사", "기아 주식회사"),
        ("엘지전자 주식회사", "엘지화학 주식회사"),
        ("엘지전자 주식회사", "엘지디스플레이 주식회사"),
        ("주식회사 케이티", "주식회사 케이티앤지"),
        ("에스케이텔레콤 주식회사", "에스케이하이닉스 주식회사"),
        ("한국남부발전 주식회사", "한국서부발전 주식회사"),
        ("주식회사 가나테크", "주식회사 가나텍"),
        ("주식회사 가나", "주식회사 가나다"),
        ("Coway Co., Ltd.", "Co., Ltd."),
        ("Magna AG", "Magnag"),
        ("가나테크", "가나테크놀로지"),
    ],
)
def test_different_companies_keep_distinct_keys(first: str, second: str) -> None:
    assert company_key(first) != company_key(second)


def test_key_is_compact_casefolded_and_deterministic() -> None:
    key = company_key("주식회사 Gana Tech·Korea")
    assert key == "ganatechkorea"
    assert company_key("주식회사 Gana Tech·Korea") == key


def test_latin_forms_need_a_word_boundary() -> None:
    assert company_key("Coway") == "coway"
    assert company_key("Magnag") == "magnag"
    assert company_key("Incheon Co") == "incheon"


def test_name_that_is_only_a_legal_form_keeps_a_key() -> None:
    assert company_key("주식회사") == "주식회사"
    assert company_key("Company") == "company"
    assert company_key("AG") == "ag"


@pytest.mark.parametrize(("korean", "latin"), sorted(KNOWN_ALIASES.items()))
def test_known_aliases_apply_as_prefix(korean: str, latin: str) -> None:
    assert company_key(f"{korean}전자 주식회사") == company_key(f"{latin.upper()}전자")
    assert company_key(f"주식회사 {korean}") == latin


def test_known_aliases_do_not_apply_inside_a_name() -> None:
    assert company_key("가나엘지") == "가나엘지"
    assert company_key("가나에스케이") != company_key("가나SK")


def test_known_renames_are_whole_keys() -> None:
    for old, new in KNOWN_RENAMES.items():
        assert company_key(old) == company_key(new)
    assert company_key("기아자동차부품 주식회사") != company_key("기아 주식회사")


def test_strip_legal_forms_keeps_case_and_spaces() -> None:
    assert strip_legal_forms("주식회사  제이 엔 에스 텍") == "제이 엔 에스 텍"
    assert strip_legal_forms("Gana Tech Co., Ltd.") == "Gana Tech"
    assert strip_legal_forms("㈜가나") == "가나"
    assert strip_legal_forms("가나영농조합법인") == "가나영농조합법인"  # glued cooperative form stays
    assert strip_legal_forms("농업회사법인 주식회사 가나") == "가나"
    assert strip_legal_forms("주식회사") == "주식회사"


def test_display_name_strips_legal_forms() -> None:
    assert display_name(["삼성전자주식회사", "삼성전자 주식회사", "삼성전자(주)"]) == "삼성전자"


def test_display_name_prefers_the_most_frequent_variant() -> None:
    assert display_name(["SK하이닉스", "에스케이하이닉스 주식회사", "SK하이닉스 주식회사"]) == "SK하이닉스"


def test_display_name_ties_prefer_korean_then_shortest_then_lexicographic() -> None:
    assert display_name(["Gana", "가나테크"]) == "가나테크"
    assert display_name(["가나테크놀로지", "가나테크"]) == "가나테크"
    assert display_name(["나다", "가나"]) == "가나"
    assert display_name(["Gana Tech", "GanaTech Co."]) == "GanaTech"


def test_display_name_is_order_independent_and_handles_empty_input() -> None:
    variants = ["주식회사 가나", "가나㈜", "Gana Inc.", "Gana"]
    assert display_name(variants) == display_name(list(reversed(variants))) == "가나"
    assert display_name([]) == ""
    assert display_name(["  "]) == ""


def test_group_company_names_counts_and_aliases() -> None:
    names = [
        "가나테크 주식회사",
        "(주)가나테크",
        "가나테크 주식회사",
        "주식회사 다라",
        "다라 주식회사",
        "다라(주)",
        "다라(주)",
        "마바 유한회사",
        "",
        "   ",
    ]
    groups = group_company_names(names)
    assert groups == [
        CompanyName(key="다라", name="다라", aliases=("다라 주식회사", "다라(주)", "주식회사 다라"), count=4),
        CompanyName(key="가나테크", name="가나테크", aliases=("(주)가나테크", "가나테크 주식회사"), count=3),
        CompanyName(key="마바", name="마바", aliases=("마바 유한회사",), count=1),
    ]


def test_group_company_names_sorts_ties_by_key() -> None:
    groups = group_company_names(["주식회사 하", "주식회사 가", "(주)나"])
    assert [g.key for g in groups] == ["가", "나", "하"]
    assert all(g.count == 1 for g in groups)


def test_company_name_is_frozen() -> None:
    group = CompanyName(key="가나", name="가나", aliases=("가나",), count=1)
    with pytest.raises(AttributeError):
        group.name = "다라"  # type: ignore[misc]


def test_merges_report_lists_only_multi_spelling_groups() -> None:
    groups = group_company_names(
        ["(주)가나", "가나 주식회사", "가나 주식회사", "다라 주식회사", "다라 주식회사"]
    )
    assert merges_report(groups) == [
        {"name": "가나", "key": "가나", "aliases": ["(주)가나", "가나 주식회사"], "count": 3}
    ]
    assert merges_report([]) == []


def _explained(alias: str, key: str) -> bool:
    """Whether ``alias`` reduces to ``key`` by dropping legal forms, spaces, punctuation and case, then
    at most one KNOWN_ALIASES prefix and one KNOWN_RENAMES entry (nothing else may merge names)."""
    stem = "".join(ch for ch in strip_legal_forms(alias).casefold() if ch.isalnum())
    for form in COMPANY_FORMS:
        stem = stem.replace(form, "") or stem
    candidates = {stem}
    candidates |= {
        latin + stem[len(korean) :] for korean, latin in KNOWN_ALIASES.items() if stem.startswith(korean)
    }
    return any(c == key or KNOWN_RENAMES.get(c) == key for c in candidates)


@pytest.mark.shared
def test_real_company_names_merge_only_spelling_variants() -> None:
    """In the real corpus every merge is a spelling variant (or a listed rename), never two companies."""
    from matcher.ingest import ingest_paths
    from matcher.ingest.applicants import applicant_kind

    xml = shared_path("kipris-plus-xml")
    csv = shared_path("kipris-inu", "inu_patents_dev.csv")
    result = ingest_paths([xml, csv])
    names = [a for t in result.technologies for a in t.applicants if applicant_kind(a) == "company"]
    assert names, "no company applicants in the real data"
    groups = group_company_names(names)
    assert sum(g.count for g in groups) == len(names)
    assert len(groups) >= 0.9 * len(set(names))  # merging is the exception
    for group in groups:
        assert all(_explained(alias, group.key) for alias in group.aliases), group


def test_ingest_report_lists_company_merges():
    from matcher.ingest.pipeline import IngestResult, company_merges
    from matcher.records import Company, Technology

    techs = [Technology(id="A1", title="t", applicants=("주식회사 한빛로보틱스", "가온대학교 산학협력단")),
             Technology(id="A2", title="t", applicants=("(주)한빛로보틱스",)),
             Technology(id="A3", title="t", applicants=("홀로전자 주식회사",))]
    result = IngestResult(technologies=techs, companies=[Company(name="한빛로보틱스", aliases=("㈜한빛로보틱스",))])
    merges = company_merges(result)
    assert len(merges) == 1 and merges[0]["name"] == "한빛로보틱스"
    assert set(merges[0]["aliases"]) == {"주식회사 한빛로보틱스", "(주)한빛로보틱스", "한빛로보틱스", "㈜한빛로보틱스"}
    result.report.company_merges = merges
    assert result.report.to_dict()["company_merges"] == merges
