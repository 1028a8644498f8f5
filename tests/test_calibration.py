"""Calibrated relevance: the JSON model file, its shape guarantees, and what it says on the demo index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matcher.errors import ConfigError
from matcher.retrieval.calibration import (
    FEATURES,
    MONOTONE,
    RELEVANCE_FLOOR,
    ROUTES,
    Calibrator,
    calibration_file,
    load_calibrator,
    relevance_features,
)
from matcher.retrieval.retriever import Scored

OFF_TOPIC = "조선소 선박 용접 자동화"


def _synthetic(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(0, 1, n), rng.uniform(0, 1, n), rng.normal(0, 2, n)])
    y = (X[:, 0] + X[:, 1] + rng.normal(0, 0.3, n) > 1.0).astype(int)
    routes = [ROUTES[i % 3] for i in range(n)]
    return X, y, routes


def test_json_round_trip(tmp_path):
    X, y, routes = _synthetic()
    model = Calibrator(("dense", "lexical_frac", "fused_z")).fit(X, y, routes)
    path = model.save(tmp_path / "c.json", made={"data": "synthetic"})
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["features"] == ["dense", "lexical_frac", "fused_z"]
    assert set(data["routes"]) == set(ROUTES)
    assert {"coef", "intercept"} <= set(data["routes"]["ko"])
    assert data["made"]["data"] == "synthetic" and data["made"]["when"]
    again = Calibrator.load(path)
    np.testing.assert_allclose(again.predict(X, routes), model.predict(X, routes))
    pooled = Calibrator(("dense",), per_route=False).fit(X, y)
    assert set(pooled.models_) == {"all"}
    assert Calibrator.from_dict(pooled.to_dict()).predict(X[:5], routes[:5]).shape == (5,)


def test_bad_inputs_are_named():
    with pytest.raises(ConfigError, match="valid: dense, lexical_frac, fused_z"):
        Calibrator(("cosine",))
    with pytest.raises(ConfigError, match="not fitted"):
        Calibrator().predict(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="shape"):
        Calibrator().fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]))
    with pytest.raises(ConfigError, match="format"):
        Calibrator.from_dict({"format": "other"})


def test_features_are_absolute():
    hit = Scored(3, 1.7, {"route": "ko", "lexical": 6.0, "dense": 0.42})
    assert relevance_features(hit, 12.0) == pytest.approx([0.42, 0.5, 1.7])
    no_dense = Scored(0, -0.5, {"route": "en-ko", "lexical": 30.0, "dense": None})
    assert relevance_features(no_dense, 12.0) == pytest.approx([0.0, 1.0, -0.5])  # fraction capped at 1
    assert relevance_features(no_dense, 0.0)[1] == 0.0


def test_repo_model_is_monotone_and_bounded():
    model = load_calibrator()
    assert load_calibrator() is model  # read once
    assert calibration_file().is_file()
    assert set(model.models_) >= set(ROUTES) or "all" in model.models_
    assert set(model.features) <= set(FEATURES) and model.made_.get("data")
    for key, entry in model.models_.items():
        for name, c in zip(model.features, entry["coef"], strict=True):
            if name in MONOTONE:
                assert c > 0, f"route {key}: coefficient of {name} is {c}"
    grid = np.linspace(-1, 1, 9)
    for route in ROUTES:
        for j in range(len(FEATURES)):
            X = np.tile([0.3, 0.3, 0.5], (grid.size, 1))
            X[:, j] = grid * (4 if FEATURES[j] == "fused_z" else 1)
            p = model.predict(X, [route] * grid.size)
            assert np.all((p >= 0) & (p <= 1))
            assert np.all(np.diff(p) >= -1e-12), f"route {route}: not monotone in {FEATURES[j]}"
    extreme = np.array([[1e6, 1e6, 1e6], [-1e6, -1e6, -1e6]])
    p = model.predict(extreme, ["ko", "ko"])
    assert np.all((p >= 0) & (p <= 1)) and p[0] > p[1]
    assert 0 < RELEVANCE_FLOOR < 1


def test_lexical_bound_is_an_upper_bound_and_ignores_request_phrasing():
    from matcher.retrieval.config import PipelineConfig
    from matcher.retrieval.retriever import HybridRetriever

    docs = ["배터리 관리 시스템의 온도 제어", "리튬 배터리 양극 소재", "실내 이동로봇 위치 추정",
            "battery thermal management", "indoor robot localisation with lidar"]
    config = PipelineConfig(name="bm25", dense_en=None, dense_multi=None, translate=False)
    retriever = HybridRetriever(config, {}).fit(docs)
    for query in ("배터리 관리", "battery management", "이동로봇 위치"):
        bound = retriever.lexical_bound(query)
        hits = retriever.search(query, 5)
        assert bound > 0 and all(h.components["lexical"] <= bound + 1e-5 for h in hits)
    plain = retriever.lexical_bound("배터리 관리")
    assert retriever.lexical_bound("배터리 관리 기술이 필요합니다") == pytest.approx(plain)
    assert retriever.lexical_bound("We are looking for battery management") == pytest.approx(
        retriever.lexical_bound("battery management"))
    assert retriever.lexical_bound("조선소 배터리 관리") > plain  # an absent word raises the bound


@pytest.fixture(scope="module")
def demo_version(demo_index, minilm, use_m3):
    from matcher.store import IndexStore

    return IndexStore(demo_index).load({"minilm": minilm, "use-m3": use_m3})


@pytest.mark.slow
def test_demo_own_title_is_relevant_and_off_topic_is_not(demo_version):
    from tests.conftest import DEMO

    corpus_text = "".join(p.read_text(encoding="utf-8") for p in DEMO.iterdir() if p.is_file())
    assert not any(word in corpus_text for word in ("조선", "선박", "용접")), "the off-topic topic must be absent"
    retriever = demo_version.retriever
    model = load_calibrator()
    techs = demo_version.technologies
    own = []
    for pos in range(0, len(techs), 4):
        title = techs[pos].title
        bound = retriever.lexical_bound(title)
        hits = retriever.search(title, 10)
        rel = model.predict_scored(hits, bound)
        assert np.all((rel >= 0) & (rel <= 1))
        assert hits[0].position == pos, f"{techs[pos].id} is not first for its own title"
        own.append(float(rel[0]))
    assert min(own) >= RELEVANCE_FLOOR, own
    assert float(np.median(own)) >= 0.5, own
    hits = retriever.search(OFF_TOPIC, 5)
    top = model.predict_scored(hits, retriever.lexical_bound(OFF_TOPIC))
    assert float(top.max()) < RELEVANCE_FLOOR / 2, (top, hits[0].components)
