"""The int8 ONNX encoder (``minilm-int8``): exported here from the packaged MiniLM weights into a fresh model
cache, close to the PyTorch model's vectors, an identity of its own, and made once (slow: exports a model).
And ``minilm-f32q``'s queries through the float32 export (``query_runtime = "onnx"``): the PyTorch model's vectors;
``minilm``'s through the int8 export (``query_runtime = "onnx-int8"``, the default): close to them, one text per run."""

from __future__ import annotations

import time

import numpy as np
import pytest

from matcher.encoders import sentence_transformers as st_encoder
from matcher.encoders.onnx import FLOAT_RECIPE, RECIPE
from matcher.encoders.registry import build_encoder, load_registry

pytestmark = pytest.mark.slow

TEXTS = [
    "A lithium-ion battery state-of-charge estimator using an extended Kalman filter.",
    "Indoor autonomous mobile robot localisation with lidar SLAM and loop closure.",
    "Gene amplification by isothermal reaction for point-of-care diagnosis of infections.",
    "Short text.",
    "",
]


@pytest.fixture(scope="module")
def encoders(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    cache = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATCHER_MODEL_CACHE", str(cache))
        registry = load_registry()
        int8 = build_encoder(registry.get("minilm-int8"))
        started = time.perf_counter()
        again = build_encoder(registry.get("minilm-int8"))
        reload_seconds = time.perf_counter() - started
    torch_model = build_encoder(registry.get("minilm"))
    return int8, again, torch_model, cache, reload_seconds


def test_exported_once_into_the_model_cache(encoders: tuple) -> None:
    int8, again, _, cache, reload_seconds = encoders
    files = list((cache / "onnx").glob("*.onnx"))
    assert [f.name for f in files] == [int8.path.name]
    assert again.path == int8.path
    assert reload_seconds < 10  # the second load reads the cached file, it does not export again


def test_vectors_close_to_the_pytorch_model(encoders: tuple) -> None:
    int8, again, torch_model, _, _ = encoders
    got = int8.encode_documents(TEXTS)
    want = torch_model.encode_documents(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = (got * want).sum(axis=1)
    assert cosine[:4].min() > 0.97 and cosine[:4].mean() > 0.985
    np.testing.assert_allclose(again.encode_queries(TEXTS), got, atol=1e-6)  # the same file, the same vectors
    # a text's vector does not depend on the texts encoded with it (one text per run)
    single = np.vstack([int8.encode_documents([t]) for t in TEXTS[:4]])
    np.testing.assert_allclose(single, got[:4], atol=1e-6)


def test_identity_is_its_own(encoders: tuple) -> None:
    int8, _, torch_model, _, _ = encoders
    assert int8.identity.backend == "onnx-int8" and int8.identity.dimension == 384
    assert int8.identity.key != torch_model.identity.key
    assert RECIPE in int8.identity.revision


def test_threads_can_be_set_for_serving(encoders: tuple) -> None:
    int8, *_ = encoders
    before = int8.encode_queries(TEXTS[:2])
    int8.set_threads(1)
    np.testing.assert_allclose(int8.encode_queries(TEXTS[:2]), before, atol=1e-5)


LONG = " ".join(["Solid electrolyte interphase growth on silicon anodes limits cycle life."] * 40)


def _built_in_fresh_cache(name: str, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """(registry encoder ``name`` built with an empty model cache, that cache): its ONNX export made anew."""
    cache = tmp_path_factory.mktemp(f"{name}-model-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATCHER_MODEL_CACHE", str(cache))
        encoder = build_encoder(load_registry().get(name))
    return encoder, cache


def _queries_both_ways(built: tuple, runtime: str, prefix: str, recipe: str) -> tuple:
    """(encoder, texts, its query vectors, the PyTorch pass's) after checking the runtime and the one export made."""
    encoder, cache = built
    assert encoder.query_runtime == runtime
    made = [f.name for f in (cache / "onnx").glob("*.onnx")]
    assert len(made) == 1 and made[0].startswith(prefix) and made[0].endswith(f"-{recipe}.onnx")
    texts = [*TEXTS, LONG]  # an empty text and one past max_seq_length (truncated alike) included
    got = encoder.encode_queries(texts)
    want = encoder._encode(texts, encoder.query_prefix, False)  # the PyTorch pass
    assert got.shape == want.shape and got.dtype == np.float32
    return encoder, texts, got, want


@pytest.fixture(scope="module")
def float_queries(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    return _built_in_fresh_cache("minilm-f32q", tmp_path_factory)


def test_minilm_f32q_queries_run_through_the_float_export_with_the_pytorch_vectors(float_queries: tuple) -> None:
    encoder, texts, got, want = _queries_both_ways(float_queries, "onnx", "minilm-f32q-", FLOAT_RECIPE)
    np.testing.assert_allclose(got, want, atol=st_encoder.QUERY_RUNTIME_TOLERANCE)
    alone = np.vstack([encoder.encode_queries([t]) for t in texts])  # padding to the batch's longest changes nothing
    np.testing.assert_allclose(alone, got, atol=1e-6)
    encoder.set_threads(1)
    np.testing.assert_allclose(encoder.encode_queries(texts[:2]), got[:2], atol=1e-6)


def test_queries_stay_on_pytorch_when_the_export_disagrees(float_queries: tuple, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    _, cache = float_queries
    monkeypatch.setenv("MATCHER_MODEL_CACHE", str(cache))
    monkeypatch.setattr(st_encoder, "QUERY_RUNTIME_TOLERANCE", -1.0)  # no export can agree
    encoder = build_encoder(load_registry().get("minilm-f32q"))
    assert encoder.query_runtime == "torch"
    assert "queries stay on PyTorch" in caplog.text
    np.testing.assert_allclose(encoder.encode_queries(TEXTS[:2]), encoder._encode(TEXTS[:2], "", False), atol=0)


def test_an_unknown_query_runtime_is_refused() -> None:
    from matcher.errors import ConfigError

    with pytest.raises(ConfigError, match="query_runtime 'tensorrt' is not one of torch, onnx, onnx-int8"):
        st_encoder.SentenceTransformerEncoder("unused", query_runtime="tensorrt")


@pytest.fixture(scope="module")
def int8_queries(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    return _built_in_fresh_cache("minilm", tmp_path_factory)


def test_minilm_queries_run_through_the_int8_export_close_to_the_pytorch_vectors(
        int8_queries: tuple, encoders: tuple) -> None:
    encoder, texts, got, want = _queries_both_ways(int8_queries, "onnx-int8", "minilm-", RECIPE)
    assert encoder.query_variant == RECIPE
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # stated tolerance: every text's cosine to the float vector ≥ INT8_QUERY_MIN_COSINE (0.98; the empty text is the
    # lowest, ≈ 0.981), the non-empty texts' mean ≥ 0.99 (measured ≈ 0.994)
    cosine = (got * want).sum(axis=1)
    assert cosine.min() >= st_encoder.INT8_QUERY_MIN_COSINE
    assert np.delete(cosine, 4).mean() >= 0.99
    # the same vectors as the minilm-int8 encoder's (the same recipe, one text per run)
    int8, *_ = encoders
    np.testing.assert_allclose(got, int8.encode_queries(texts), atol=1e-6)
    # one text per run: a query's vector does not depend on its batch mates
    alone = np.vstack([encoder.encode_queries([t]) for t in texts])
    np.testing.assert_allclose(alone, got, atol=1e-6)
    np.testing.assert_allclose(encoder.encode_queries([texts[3], texts[0]]), got[[3, 0]], atol=1e-6)
    encoder.set_threads(1)
    np.testing.assert_allclose(encoder.encode_queries(texts[:2]), got[:2], atol=1e-5)


def test_minilm_documents_and_identity_are_minilm_f32q_s(int8_queries: tuple, float_queries: tuple) -> None:
    encoder, _ = int8_queries
    minilm, _ = float_queries
    np.testing.assert_allclose(encoder.encode_documents(TEXTS), minilm.encode_documents(TEXTS), atol=1e-6)
    # only the name differs: minilm's query runtime moving from onnx to onnx-int8 kept its identity (indexes load);
    # its query vectors are keyed apart from the float ones (embedding and query-vector caches)
    assert (encoder.identity.revision, encoder.identity.options) == (minilm.identity.revision, minilm.identity.options)
    assert encoder.query_key == f"{encoder.identity.key}+{RECIPE}" and minilm.query_key == minilm.identity.key


def test_int8_queries_stay_on_pytorch_when_the_export_is_too_far(int8_queries: tuple,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    _, cache = int8_queries
    monkeypatch.setenv("MATCHER_MODEL_CACHE", str(cache))
    monkeypatch.setattr(st_encoder, "INT8_QUERY_MIN_COSINE", 1.01)  # no int8 vector can reach it
    encoder = build_encoder(load_registry().get("minilm"))
    assert encoder.query_runtime == "torch" and encoder.query_variant == ""
    assert encoder.query_key == encoder.identity.key
    assert "queries stay on PyTorch (the int8 ONNX export's cosine" in caplog.text
    np.testing.assert_allclose(encoder.encode_queries(TEXTS[:2]), encoder._encode(TEXTS[:2], "", False), atol=0)
