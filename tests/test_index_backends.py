"""One contract every vector-index backend passes; exact backends equal brute-force numpy."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import NotFoundError, ValidationError
from matcher.index.factory import AUTO_EXACT_LIMIT, BACKENDS, choose_backend, create_index, index_class


def unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(x, q, k, allowed=None):
    positions = np.arange(len(x)) if allowed is None else np.asarray(allowed)
    s = q @ x[positions].T
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(s, order, axis=1), positions[order]


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    return request.param


def clustered(rng, n, d, centres=40):
    """Unit vectors around a few centres, like text embeddings (uniform noise is the ANN worst case)."""
    c = unit(rng, centres, d)
    x = c[rng.integers(0, centres, n)] + 0.15 * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return clustered(rng, 2000, 32), clustered(rng, 25, 32)


def test_matches_brute_force(backend, data):
    x, q = data
    index = create_index(backend, 32, len(x)).fit(x)
    assert len(index) == len(x)
    scores, pos = index.search(q, 10)
    ref_scores, ref_pos = brute_force(x, q, 10)
    if index.exact:
        np.testing.assert_array_equal(pos, ref_pos)
        np.testing.assert_allclose(scores, ref_scores, rtol=1e-5, atol=1e-5)
    else:
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(pos, ref_pos, strict=True)])
        assert recall >= 0.9, recall
        # reported scores are true inner products of the returned rows
        true = np.einsum("qd,qkd->qk", q, x[pos])
        np.testing.assert_allclose(scores, true, rtol=1e-4, atol=1e-4)


def test_allowed_restricts_before_ranking(backend, data):
    x, q = data
    allowed = np.arange(0, len(x), 7, dtype=np.int64)
    index = create_index(backend, 32, len(x)).fit(x)
    scores, pos = index.search(q, 5, allowed=allowed)
    assert set(pos[pos >= 0].ravel()) <= set(allowed)
    if index.exact:
        _, ref_pos = brute_force(x, q, 5, allowed)
        np.testing.assert_array_equal(pos, ref_pos)
    empty_scores, empty_pos = index.search(q, 5, allowed=np.array([], dtype=np.int64))
    assert (empty_pos == -1).all() and np.isneginf(empty_scores).all()


def test_k_larger_than_corpus(backend):
    rng = np.random.default_rng(1)
    x = unit(rng, 60, 8)
    index = create_index(backend, 8, len(x)).fit(x)
    scores, pos = index.search(x[:2], 100)
    assert pos.shape == (2, 100)
    assert (pos[:, :60] >= 0).sum() >= 50 and (pos[:, 60:] == -1).all()


def test_save_load_round_trip(backend, data, tmp_path):
    x, q = data
    index = create_index(backend, 32, len(x)).fit(x)
    entry = index.save(tmp_path)
    loaded = index_class(entry["backend"]).load(tmp_path, entry)
    a = index.search(q, 10)
    b = loaded.search(q, 10)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0])


def test_stored_vectors(backend, data, tmp_path):
    """Every backend returns the vectors it stores and scores chosen rows exactly, after a load too."""
    x, _ = data
    index = create_index(backend, 32, len(x)).fit(x)
    rows = np.array([5, 0, 1999, 77], dtype=np.int64)
    np.testing.assert_array_equal(index.vectors(rows), x[rows])
    assert index.vectors(np.zeros(0, dtype=np.int64)).shape == (0, 32)
    loaded = index_class(backend).load(tmp_path, index.save(tmp_path))
    np.testing.assert_array_equal(loaded.vectors(rows), x[rows])
    if backend != "ivf":  # IVF keeps vectors in its inverted lists, not as one matrix
        np.testing.assert_array_equal(index.matrix(), x)
    q = x[3] * 0.5
    np.testing.assert_allclose(index.scores(q, rows), x[rows] @ q, rtol=1e-5, atol=1e-6)
    assert index.scores(q, np.zeros(0, dtype=np.int64)).shape == (0,)
    if backend in ("flat", "hnsw"):  # scored from the storage by index: a position outside it is refused
        with pytest.raises(ValidationError, match="positions"):
            index.scores(q, np.array([len(x)]))


def test_bad_input(backend):
    index = create_index(backend, 8, 10)
    with pytest.raises(ValidationError, match="dimension"):
        index.fit(np.zeros((3, 9), dtype=np.float32))
    with pytest.raises(ValidationError, match="NaN"):
        index.fit(np.full((3, 8), np.nan, dtype=np.float32))


def test_factory_names():
    assert choose_backend("auto", 100) == "flat"
    assert choose_backend("auto", AUTO_EXACT_LIMIT) == "flat"
    assert choose_backend("auto", AUTO_EXACT_LIMIT + 1) == "hnsw"
    assert choose_backend("auto", 10_000_000) == "hnsw"
    with pytest.raises(NotFoundError, match="valid options: auto, exact, flat, hnsw, ivf"):
        choose_backend("annoy", 10)
