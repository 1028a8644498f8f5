"""The hybrid retriever on a small bilingual corpus: routes, filters, fusion, persistence, config errors."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import ConfigError
from matcher.retrieval.config import PipelineConfig, load_pipelines, resolve_pipeline
from matcher.retrieval.retriever import HybridRetriever

DOCS = [
    "자율주행 이동로봇의 실내 위치 추정을 위한 LiDAR 기반 SLAM 방법",
    "리튬이온 배터리의 충전 상태를 추정하는 배터리 관리 시스템",
    "항체 약물 접합체를 포함하는 암 치료용 조성물",
    "A wearable patch that monitors heart rate and skin temperature",
    "Deep learning model for detecting defects in semiconductor wafers",
    "물류 창고에서 다수의 이동로봇 경로를 계획하는 방법",
]


@pytest.fixture(scope="module")
def retriever(minilm, use_m3):
    return HybridRetriever(resolve_pipeline("hybrid"), {"minilm": minilm, "use-m3": use_m3}).fit(DOCS)


def test_korean_query(retriever):
    hits = retriever.search("배터리 충전 상태 추정", 3)
    assert hits[0].position == 1
    assert hits[0].components["route"] == "ko" and hits[0].components["encoder"] == "use-m3"


def test_english_query_reaches_korean_documents(retriever):
    hits = retriever.search("battery state of charge estimation", 3)
    assert hits[0].position == 1
    assert hits[0].components["route"] == "en-ko"


def test_english_query_english_document_uses_minilm(retriever):
    hits = retriever.search("wafer defect detection with deep learning", 2)
    assert hits[0].position == 4 and hits[0].components["encoder"] == "minilm"
    assert hits[0].components["route"] == "en-en"


def test_translation_bridges_terms(retriever):
    terms = retriever.query_terms("antibody drug conjugate")
    assert "antibody" not in {t for t in terms if not t.isascii()}
    assert any(not t.isascii() for t in terms), terms  # Korean terms were added


def test_filter_applies_before_ranking(retriever):
    mask = np.zeros(len(DOCS), dtype=bool)
    mask[[2, 5]] = True
    hits = retriever.search("이동로봇 위치 추정", 5, allowed=mask)
    assert [h.position for h in hits] == [5, 2]
    assert retriever.search("robot", 3, allowed=np.array([], dtype=np.int64)) == []


def test_deterministic(retriever):
    a = [(h.position, h.score) for h in retriever.search("로봇", 6)]
    b = [(h.position, h.score) for h in retriever.search("로봇", 6)]
    assert a == b


def test_save_load(retriever, tmp_path, minilm, use_m3):
    entry = retriever.save(tmp_path)
    again = HybridRetriever.load(tmp_path, entry, {"minilm": minilm, "use-m3": use_m3})
    for q in ("배터리", "wearable heart monitor", "antibody"):
        assert [(h.position, round(h.score, 5)) for h in again.search(q, 4)] == [
            (h.position, round(h.score, 5)) for h in retriever.search(q, 4)]


def test_public_face(retriever, minilm, use_m3):
    """What other modules read of a retriever: counts, routes, channels, lexical scores and bounds."""
    assert retriever.document_count == len(DOCS)
    assert retriever.primary_encoder == "use-m3" and retriever.encoder("minilm") is minilm
    assert dict(retriever.encoders) == {"minilm": minilm, "use-m3": use_m3}
    with pytest.raises(TypeError):
        retriever.encoders["x"] = minilm  # read-only
    with pytest.raises(ConfigError, match="no encoder 'nope' in pipeline 'hybrid'"):
        retriever.encoder("nope")
    assert retriever.dense_rows("use-m3").tolist() == list(range(len(DOCS)))
    assert retriever.dense_rows("minilm").tolist() == [3, 4]  # the English documents
    assert retriever.dense_rows("nope") is None
    assert retriever.translates_queries
    scores = retriever.lexical_scores("이동로봇 경로")
    assert scores.shape == (len(DOCS),) and int(np.argmax(scores)) == 5
    bounds = retriever.term_bounds("배터리 충전 상태 추정이 필요합니다")
    assert bounds and all(w > 0 for _, w, _ in bounds) and any(known for _, _, known in bounds)
    assert 0 < retriever.lexical_bound("배터리 충전 상태 추정이 필요합니다") < sum(w for _, w, _ in bounds)
    assert retriever.take_tokens() is None  # fitted without keep_tokens


def test_kept_tokens_are_taken_once():
    bm25 = HybridRetriever(resolve_pipeline("bm25"), {}).fit(DOCS, keep_tokens=True)
    tokens = bm25.take_tokens()
    assert tokens is not None and len(tokens) == len(DOCS) and bm25.take_tokens() is None
    assert bm25.primary_encoder is None and bm25.dense_rows("minilm") is None and not bm25.translates_queries


def test_lexical_only_pipeline(minilm):
    bm25 = HybridRetriever(resolve_pipeline("bm25"), {}).fit(DOCS)
    hits = bm25.search("이동로봇 경로", 2)
    assert hits[0].position == 5 and hits[0].components["dense"] is None


def test_registry_and_config_errors():
    default, pipelines = load_pipelines()
    assert default in pipelines and {"bm25", "minilm", "use", "hybrid"} <= set(pipelines)
    with pytest.raises(ConfigError, match="unknown pipeline 'nope'; valid:"):
        resolve_pipeline("nope")
    with pytest.raises(ConfigError, match="unknown route"):
        PipelineConfig(weights={"fr": 0.5})
    with pytest.raises(ConfigError, match="no channel"):
        PipelineConfig(lexical=False, dense_en=None, dense_multi=None, translate=False)
    with pytest.raises(ConfigError, match="needs encoder"):
        HybridRetriever(resolve_pipeline("hybrid"), {})
    assert resolve_pipeline(encoder="minilm").encoders == ("minilm",)
