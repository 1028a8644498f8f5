"""Requirement facets of demand texts: Korean, English, mixed, lists, limits and bad input."""

from __future__ import annotations

import pytest

from matcher.errors import ValidationError
from matcher.matching.facets import split_requirements


def test_korean_sentences_become_facets():
    text = (
        "자율주행 로봇의 경로 계획 기술이 필요합니다. 또한 라이다 센서 융합 기술을 원합니다. "
        "양산 경험이 있는 기관이면 좋겠어요."
    )
    facets = split_requirements(text)
    assert len(facets) == 3
    assert facets[0].startswith("자율주행 로봇") and facets[1].startswith("라이다")  # leading 또한 dropped


def test_korean_single_sentence_listing_three_needs():
    facets = split_requirements(
        "배터리 열관리 시스템 설계, 전해질 소재 개발 및 셀 수명 예측 알고리즘이 필요합니다"
    )
    assert facets == ["배터리 열관리 시스템 설계", "전해질 소재 개발", "셀 수명 예측 알고리즘이 필요합니다"]


def test_korean_connective_endings_split_long_clauses():
    text = "고분자 전해질 막 제조 기술을 개발하며 대량 생산 공정을 확립하고 원가 절감 방안을 마련해야 함."
    facets = split_requirements(text)
    assert len(facets) == 3
    assert facets[0].endswith("개발하며")  # original wording kept


def test_short_coordinated_nouns_stay_one_facet():
    assert split_requirements("로봇, 드론 및 센서 기술이 필요합니다.") == [
        "로봇, 드론 및 센서 기술이 필요합니다."
    ]


def test_single_need_is_one_facet_and_boilerplate_dropped():
    assert split_requirements("스마트팜 환경 제어 기술이 필요합니다. 감사합니다.") == [
        "스마트팜 환경 제어 기술이 필요합니다."
    ]
    assert split_requirements("필요합니다") == ["필요합니다"]  # nothing else: the text itself


def test_english_sentences_and_clauses():
    text = (
        "We need a battery thermal management model for EV packs. "
        "The partner should run pilot production lines; cell aging tests are also required."
    )
    facets = split_requirements(text)
    assert len(facets) == 3
    assert facets[2] == "cell aging tests are also required."


def test_english_and_only_between_long_clauses():
    assert len(split_requirements("We need robust sensors and actuators.")) == 1
    assert (
        len(split_requirements("We need a fast image classifier and a partner with clinical data access."))
        == 2
    )


def test_abbreviations_and_decimals_do_not_end_sentences():
    assert split_requirements("Motors of 2.5 kW output, e.g. BLDC designs") == [
        "Motors of 2.5 kW output, e.g. BLDC designs"
    ]


def test_mixed_korean_english():
    text = (
        "스마트 공장 구축을 위해 PLC 데이터 수집 시스템과 MES 연동 솔루션 및 AI 기반 품질 예측 모델이 필요합니다. "
        "We also need on-site support for integration."
    )
    facets = split_requirements(text)
    assert facets[:3] == ["스마트 공장 구축을 위해 PLC 데이터 수집 시스템과", "MES 연동 솔루션", "AI 기반 품질 예측 모델이 필요합니다."]
    assert facets[3].startswith("We also need")


def test_conjunctive_particle_joins_two_named_technologies():
    facets = split_requirements("리튬-황 이차 전지와 유연한 센서 패치를 결합한 기술이 필요합니다")
    assert facets == ["리튬-황 이차 전지와", "유연한 센서 패치를 결합한 기술이 필요합니다"]
    # a word that merely ends in 과/와 is not a particle, and short joined nouns stay together
    assert split_requirements("결과와 효과 분석이 필요하다") == ["결과와 효과 분석이 필요하다"]


def test_patent_title_with_anaphoric_clauses_stays_whole():
    title = "양극 활물질, 이의 제조방법 및 이를 포함하는 리튬 이차 전지"
    assert split_requirements(title) == [title]
    facets = split_requirements(f"{title}, 수소 연료전지 분리판 코팅 및 센서 패치 제조 공정을 결합한 기술")
    assert facets[0] == title and len(facets) == 3


@pytest.mark.parametrize(
    "text",
    [
        "다음 기술이 필요합니다:\n1) 고온 내열 복합소재 개발\n2) 경량 구조 설계 및 해석\n3) 시제품 제작 및 신뢰성 시험",
        "- 고온 내열 복합소재 개발\n- 경량 구조 설계 및 해석\n- 시제품 제작 및 신뢰성 시험",
        "• 고온 내열 복합소재 개발\n• 경량 구조 설계 및 해석\n• 시제품 제작 및 신뢰성 시험",
        "① 고온 내열 복합소재 개발 ② 경량 구조 설계 및 해석 ③ 시제품 제작 및 신뢰성 시험",
        "(1) 고온 내열 복합소재 개발 (2) 경량 구조 설계 및 해석 (3) 시제품 제작 및 신뢰성 시험",
    ],
)
def test_bullets_and_numbered_lists(text):
    assert split_requirements(text) == [
        "고온 내열 복합소재 개발",
        "경량 구조 설계 및 해석",
        "시제품 제작 및 신뢰성 시험",
    ]


def test_short_list_items_stand_alone_but_tiny_ones_merge():
    assert split_requirements("① 수소 연료전지 스택 설계 ② 촉매 소재 합성 ③ 내구성 평가")[-1] == "내구성 평가"
    assert split_requirements("• AI\n• IoT\n• 로봇") == ["AI IoT 로봇"]


def test_duplicates_removed_and_order_kept():
    text = "스마트팜 환경 제어 기술이 필요합니다. 수경재배 양액 관리 기술도 원합니다. 스마트팜 환경 제어 기술이 필요합니다!"
    assert split_requirements(text) == [
        "스마트팜 환경 제어 기술이 필요합니다.",
        "수경재배 양액 관리 기술도 원합니다.",
    ]


def test_max_facets_merges_shortest_neighbours():
    text = "\n".join(f"- 요구 기술 번호 {i}번 항목의 상세 사양 정의" for i in range(10))
    full = split_requirements(text, max_facets=20)
    assert len(full) == 10
    capped = split_requirements(text, max_facets=4)
    assert len(capped) == 4
    assert " ".join(capped) == " ".join(full)  # merged in text order, nothing lost
    assert split_requirements(text, max_facets=4) == capped  # deterministic


@pytest.mark.parametrize("text", ["", "   \n\t", None])
def test_empty_text_is_rejected(text):
    with pytest.raises(ValidationError) as err:
        split_requirements(text)  # type: ignore[arg-type]
    assert err.value.field == "text"


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_bad_max_facets_is_rejected(bad):
    with pytest.raises(ValidationError) as err:
        split_requirements("배터리 열관리 시스템 설계", max_facets=bad)  # type: ignore[arg-type]
    assert err.value.field == "max_facets" and repr(bad) in str(err.value)


def test_signs_and_syllables_are_not_list_markers():
    assert split_requirements("-40도 저온 환경에서 동작하는 센서 모듈") == [
        "-40도 저온 환경에서 동작하는 센서 모듈"
    ]
    assert split_requirements("가. 고온 내열 복합소재 개발\n나. 경량 구조 설계 및 해석") == [
        "고온 내열 복합소재 개발",
        "경량 구조 설계 및 해석",
    ]
