"""Tokeniser behaviour on Korean, English and mixed strings."""

from __future__ import annotations

from matcher.text.lang import detect_language, hangul_share
from matcher.text.tokenize import Analyzer, AnalyzerConfig


def test_english_stems_and_stopwords():
    tokens = Analyzer().analyze("The batteries are managed by a Battery Management System (BMS)")
    assert "the" not in tokens and "are" not in tokens
    assert tokens.count("batteri") == 2 and "manag" in tokens and "bms" in tokens


def test_korean_morphemes_and_bigrams():
    tokens = Analyzer().analyze("자율주행 이동로봇의 실내 위치를 추정하는 방법")
    for noun in ("로봇", "실내", "위치", "방법"):
        assert noun in tokens
    assert "추정" in tokens or "추정하다" in tokens
    assert "#로봇" in tokens  # character bigram, robust to compound spacing
    assert "의" not in tokens and "를" not in tokens  # particles dropped


def test_compound_spacing_shares_bigrams():
    a = set(Analyzer().analyze("자율주행로봇"))
    b = set(Analyzer().analyze("자율 주행 로봇"))
    assert {"#자율", "#주행", "#로봇"} <= a & b


def test_mixed_text_keeps_english_terms_inside_korean():
    tokens = Analyzer().analyze("LiDAR 센서와 SLAM 알고리즘을 이용한 batteries 관리")
    assert {"lidar", "slam", "batteri", "센서", "알고리즘", "관리"} <= set(tokens)


def test_numbers_kept_and_no_bigrams_when_disabled():
    tokens = Analyzer(AnalyzerConfig(hangul_bigrams=False)).analyze("5G 통신 3.5 GHz 대역")
    assert "3.5" in tokens or "3" in tokens
    assert not any(t.startswith("#") for t in tokens)


def test_batch_equals_single():
    texts = ["무선 전력 전송 장치", "wireless power transfer", "", "혼합 mixed 텍스트"]
    a = Analyzer()
    assert a.analyze_many(texts) == [a.analyze(t) for t in texts]


def test_language_detection():
    assert detect_language("자율주행 로봇") == "ko"
    assert detect_language("autonomous robot") == "en"
    assert detect_language("LiDAR 기반 SLAM for autonomous mobile robots") in ("mixed", "en")
    assert hangul_share("") == 0.0 and hangul_share("로봇") == 1.0
