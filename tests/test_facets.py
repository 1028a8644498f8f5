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
    assert facets == ["배터리 열관리 시스템 설계", "전해질 소재 개발", "셀 수명 예측 알고리즘"]  # framing stripped


def test_korean_connective_endings_split_long_clauses():
    text = "고분자 전해질 막 제조 기술을 개발하며 대량 생산 공정을 확립하고 원가 절감 방안을 마련해야 함."
    facets = split_requirements(text)
    assert len(facets) == 3
    assert facets[0].endswith("개발하며")  # original wording kept


def test_short_coordinated_nouns_stay_one_facet():
    assert split_requirements("로봇, 드론 및 센서 기술이 필요합니다.") == ["로봇, 드론 및 센서"]


def test_single_need_is_one_facet_and_boilerplate_dropped():
    assert split_requirements("스마트팜 환경 제어 기술이 필요합니다. 감사합니다.") == ["스마트팜 환경 제어"]
    assert split_requirements("필요합니다") == ["필요합니다"]  # nothing else: the text itself


def test_english_sentences_and_clauses():
    text = (
        "We need a battery thermal management model for EV packs. "
        "The partner should run pilot production lines; cell aging tests are also required."
    )
    facets = split_requirements(text)
    assert len(facets) == 3
    assert facets[2] == "cell aging tests"  # "are also required" is framing


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
    assert facets == ["스마트 공장 구축을 위해 PLC 데이터 수집 시스템", "MES 연동 솔루션", "AI 기반 품질 예측 모델",
                      "on-site support for integration"]


def test_conjunctive_particle_joins_two_named_technologies():
    facets = split_requirements("리튬-황 이차 전지와 유연한 센서 패치를 결합한 기술이 필요합니다")
    assert facets == ["리튬-황 이차 전지", "유연한 센서 패치"]  # particle and "를 결합한 기술이 필요합니다" dropped
    # a word that merely ends in 과/와 is not a particle, and short joined nouns stay together
    assert split_requirements("결과와 효과 분석이 필요하다") == ["결과와 효과 분석"]


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
    assert split_requirements(text) == ["스마트팜 환경 제어", "수경재배 양액 관리"]


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


def test_readme_example_latin_term_before_particle():
    assert split_requirements("실내 SLAM과 배터리 관리 기술이 필요합니다") == ["실내 SLAM", "배터리 관리"]
    assert split_requirements("BMS와 영상 인식 기술을 찾고 있습니다.") == ["BMS", "영상 인식"]
    assert split_requirements("PD-L1 항체와 이중특이 항체 플랫폼") == ["PD-L1 항체", "이중특이 항체 플랫폼"]


@pytest.mark.parametrize(
    "text",
    [
        "리튬 이차전지 양극재와 고체 전해질 조성물",
        "리튬 이차전지 양극재 및 고체 전해질 조성물 기술이 필요합니다",
        "리튬 이차전지 양극재 그리고 고체 전해질 조성물",
        "리튬 이차전지 양극재하고 고체 전해질 조성물이 필요해요",
        "리튬 이차전지 양극재, 고체 전해질 조성물",
        "리튬 이차전지 양극재; 고체 전해질 조성물",
        "리튬 이차전지 양극재 and 고체 전해질 조성물",
        "1. 리튬 이차전지 양극재\n2. 고체 전해질 조성물",
        "- 리튬 이차전지 양극재\n- 고체 전해질 조성물",
        "당사는 리튬 이차전지 양극재와 고체 전해질 조성물을 찾고 있습니다.",
        "We need 리튬 이차전지 양극재 and 고체 전해질 조성물.",
        "We are looking for a technology for 리튬 이차전지 양극재 and 고체 전해질 조성물.",
        "Our company needs 리튬 이차전지 양극재 and 고체 전해질 조성물 technologies.",
    ],
)
def test_connectors_and_framing_give_the_same_two_facets(text):
    assert split_requirements(text) == ["리튬 이차전지 양극재", "고체 전해질 조성물"]


def test_key_phrases_split_at_particles():
    assert split_requirements("해수 담수와 이온 교환막") == ["해수 담수", "이온 교환막"]
    assert split_requirements("양극재, 전해질 및 분리막 코팅 기술이 필요합니다") == ["양극재", "전해질", "분리막 코팅"]


def test_stronger_connector_keeps_a_title_listing_whole():
    a = "하이브리드형 저에너지 및 고효율 해수 담수화 방법"
    b = "고올레인산 함유 종자를 생성하는 식물체 및 이의 제조 방법"
    assert split_requirements(f"{a} 그리고 {b}") == [a, b]
    assert split_requirements(f"We need {a} and {b}.") == [a, b]
    assert split_requirements(f"{a}; {b}") == [a, b]


def test_list_items_are_not_cut_inside():
    text = "1. 제품의 대칭성과 영상 유사도를 이용한 결함 검출방법\n2. 다공성 나노구조부를 포함하는 미세유체 칩"
    assert split_requirements(text) == ["제품의 대칭성과 영상 유사도를 이용한 결함 검출방법", "다공성 나노구조부를 포함하는 미세유체 칩"]


def test_generic_head_stays_with_its_title():
    assert split_requirements("경쟁 방식 데이터 전송을 스케줄링하는 방법 및 장치; 딥러닝을 이용한 소재 설계 방법") == [
        "경쟁 방식 데이터 전송을 스케줄링하는 방법 및 장치",
        "딥러닝을 이용한 소재 설계 방법",
    ]


def test_framing_words_inside_content_are_kept():
    # the cut stops at the last content word before the request
    assert split_requirements("고분자 전해질 막을 대량 생산할 수 있는 기술이 필요합니다") == ["고분자 전해질 막을 대량 생산"]
    assert split_requirements("전극을 코팅하는 장비를 찾고 있습니다") == ["전극을 코팅하는 장비"]
    assert split_requirements("필요한 기술이 필요합니다") == ["필요한 기술이 필요합니다"]  # framing only: kept


def test_coordinated_argument_inside_a_title_is_not_cut():
    title = "사례기반추론과 유전자알고리즘을 이용한 건축물의 공사비 예측시스템"
    assert split_requirements(title) == [title]
    assert split_requirements("합금형 코어 및 쉘 구조를 갖는 양자점") == ["합금형 코어 및 쉘 구조를 갖는 양자점"]
    assert split_requirements("고체 전해질과 분리막을 개발할 수 있는 기술이 필요합니다") == ["고체 전해질", "분리막을 개발"]


@pytest.mark.parametrize(
    "text",
    [
        "ESS 운영사입니다. 마이크로그리드 EMS와 전기차 양방향 충전 스케줄링 기술이 필요합니다.",
        "공장 설비 모니터링 솔루션을 개발하고 있습니다. 마이크로그리드 EMS와 전기차 양방향 충전 스케줄링 기술이 필요합니다.",
        "에너지 서비스를 준비 중이며, 마이크로그리드 EMS와 전기차 양방향 충전 스케줄링 기술이 필요합니다.",
        "We are a utility company. We need 마이크로그리드 EMS and 전기차 양방향 충전 스케줄링.",
    ],
)
def test_context_sentences_are_not_requirements(text):
    assert split_requirements(text) == ["마이크로그리드 EMS", "전기차 양방향 충전 스케줄링"]


def test_context_only_text_is_kept():
    assert split_requirements("물류센터용 AMR을 개발 중입니다.") == ["물류센터용 AMR을 개발 중입니다"]


@pytest.mark.parametrize(
    "text",
    [
        "마이크로그리드 EMS · 전기차 양방향 충전 스케줄링",
        "마이크로그리드 EMS + 전기차 양방향 충전 스케줄링",
        "마이크로그리드 EMS뿐만 아니라 전기차 양방향 충전 스케줄링도 필요합니다",
        "마이크로그리드 EMS 외에 전기차 양방향 충전 스케줄링에 대한 기술도 원합니다",
        "마이크로그리드 EMS에 더해 전기차 양방향 충전 스케줄링 기술을 찾고 있습니다",
    ],
)
def test_more_connectors(text):
    assert split_requirements(text) == ["마이크로그리드 EMS", "전기차 양방향 충전 스케줄링"]


def test_english_title_quoted_in_a_korean_sentence_stays_one_requirement():
    # the "and" of a quoted English title lists like 및; its closing "System therefor" is not a requirement
    text = ("차아염소산나트륨 발생 시스템 및 Haptic Event Transport Method for Haptic-based Collaborative Virtual "
            "Environments and System therefor를 결합한 기술이 필요합니다")
    assert split_requirements(text) == [
        "차아염소산나트륨 발생 시스템",
        "Haptic Event Transport Method for Haptic-based Collaborative Virtual Environments and System therefor",
    ]
    # a particle glued to the English phrase still joins two requirements
    assert split_requirements(
        "발모촉진용 조성물과 AN APPARATUS FOR SCHEDULING CONTENTION-BASED DATA TRANSFER AND METHOD THEREOF를 "
        "결합한 기술이 필요합니다") == [
        "발모촉진용 조성물", "AN APPARATUS FOR SCHEDULING CONTENTION-BASED DATA TRANSFER AND METHOD THEREOF"]


def test_acronyms_still_stand_alone_between_latin_connectors():
    assert split_requirements("SLAM and BMS를 결합한 기술이 필요합니다") == ["SLAM", "BMS"]
    assert split_requirements("We need 실내 SLAM and 배터리 관리") == ["실내 SLAM", "배터리 관리"]
