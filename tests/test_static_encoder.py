"""The static encoder (``matcher/encoders/static.py``): a tiny artefact written here, and the shipped one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matcher.encoders.registry import load_registry, models_dir
from matcher.encoders.static import MANIFEST, PIECES, VECTORS, StaticEncoder, file_sha256
from matcher.errors import ConfigError


class FakeTokenizer:
    """Whitespace words → ids from a fixed table; unknown words get id 999 (not in the artefact)."""

    table = {"robot": 5, "battery": 7, "map": 9, "charge": 11}

    def encode(self, text: str, out_type: type = int, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        return [self.table.get(w, 999) for w in text.split()]


def write_artefact(directory: Path, dim: int = 8) -> np.ndarray:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(4, dim)).astype(np.float16)
    directory.mkdir()
    np.save(directory / VECTORS, vectors, allow_pickle=False)
    np.save(directory / PIECES, np.array([[5, -1], [7, -1], [9, -1], [11, -1]], dtype=np.int32), allow_pickle=False)
    (directory / MANIFEST).write_text(json.dumps({"name": "tiny", "dimension": dim}), encoding="utf-8")
    return vectors.astype(np.float32)


def test_static_encoder_sums_known_pieces_and_normalises(tmp_path):
    vectors = write_artefact(tmp_path / "tiny")
    enc = StaticEncoder(tmp_path / "tiny", name="tiny", tokenizer=FakeTokenizer())
    out = enc.encode_documents(["Robot map", "robot map robot", "unknownword", "", "battery zzz charge"])
    assert out.dtype == np.float32 and out.shape == (5, 8) and out.flags.c_contiguous
    expected = vectors[0] + vectors[2]
    np.testing.assert_allclose(out[0], expected / np.linalg.norm(expected), atol=1e-6)  # lower-cased
    twice = 2 * vectors[0] + vectors[2]
    np.testing.assert_allclose(out[1], twice / np.linalg.norm(twice), atol=1e-6)
    assert not out[2].any() and not out[3].any()  # no known piece, empty text → the zero vector
    mixed = vectors[1] + vectors[3]
    np.testing.assert_allclose(out[4], mixed / np.linalg.norm(mixed), atol=1e-6)  # unknown piece skipped
    np.testing.assert_allclose(np.linalg.norm(out[[0, 1, 4]], axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(enc.encode_queries(["robot map"]), out[:1])  # queries = documents
    np.testing.assert_array_equal(enc.encode_documents(["robot map"]), out[:1])  # deterministic
    assert enc.encode_documents([]).shape == (0, 8)
    ident = enc.identity
    assert ident.backend == "static" and ident.dimension == 8 and ident.revision.startswith("sha256:")
    # another artefact (other weights) is another identity
    other = tmp_path / "other"
    write_artefact(other)
    np.save(other / VECTORS, np.ones((4, 8), dtype=np.float16), allow_pickle=False)
    assert StaticEncoder(other, name="tiny", tokenizer=FakeTokenizer()).identity.key != ident.key


def test_static_encoder_refuses_a_bad_artefact(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        StaticEncoder(tmp_path / "missing")
    write_artefact(tmp_path / "bad")
    (tmp_path / "bad" / PIECES).unlink()
    with pytest.raises(ConfigError, match="has no 'pieces.npy'"):
        StaticEncoder(tmp_path / "bad")
    write_artefact(tmp_path / "dims")
    (tmp_path / "dims" / MANIFEST).write_text(json.dumps({"dimension": 16}), encoding="utf-8")
    with pytest.raises(ConfigError, match="manifest dimension 16"):
        StaticEncoder(tmp_path / "dims", tokenizer=FakeTokenizer())


def test_static_encoder_is_registered():
    entry = load_registry().get("static-use-ko")
    assert entry.backend == "static" and entry.model == "static-use-ko"


@pytest.mark.slow
def test_shipped_static_artefact():
    from matcher.encoders import load_encoder

    directory = models_dir() / "static-use-ko"
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["sha256"]) >= {VECTORS, PIECES}
    for name, digest in manifest["sha256"].items():
        assert file_sha256(directory / name) == digest, name
    assert (directory / VECTORS).stat().st_size < 25_000_000
    assert "kipris-inu" in " ".join(manifest["training_data"]["not_used"])
    enc = load_encoder("static-use-ko")
    assert enc.dimension == manifest["dimension"]
    v = enc.encode_queries([
        "자율주행 로봇의 위치 추정 방법",
        "position estimation method of an autonomous mobile robot",
        "배터리 충전 상태 추정",
        "estimating the state of charge of a battery",
        "a recipe for chocolate cake",
    ])
    assert v[0] @ v[1] > v[0] @ v[4] + 0.1  # Korean ↔ English paraphrase above an unrelated text
    assert v[2] @ v[3] > v[2] @ v[4] + 0.1
    assert v[0] @ v[1] > v[0] @ v[3] and v[2] @ v[3] > v[2] @ v[1]  # and above the other topic


def test_static_encoder_adds_piece_pairs_it_holds(tmp_path):
    vectors = write_artefact(tmp_path / "pairs")
    pair = np.arange(8, dtype=np.float16)
    np.save(tmp_path / "pairs" / VECTORS, np.vstack([vectors.astype(np.float16), pair]), allow_pickle=False)
    np.save(tmp_path / "pairs" / PIECES, np.array([[5, -1], [7, -1], [9, -1], [11, -1], [5, 9]], dtype=np.int32),
            allow_pickle=False)
    enc = StaticEncoder(tmp_path / "pairs", name="pairs", tokenizer=FakeTokenizer())
    out = enc.encode_documents(["robot map", "map robot", "robot", "robot zzz map"])
    with_pair = vectors[0] + vectors[2] + pair.astype(np.float32)
    np.testing.assert_allclose(out[0], with_pair / np.linalg.norm(with_pair), atol=1e-6)
    plain = vectors[0] + vectors[2]
    np.testing.assert_allclose(out[1], plain / np.linalg.norm(plain), atol=1e-6)  # order matters for pairs
    np.testing.assert_allclose(out[3], out[1], atol=1e-6)  # not adjacent: no pair
    np.save(tmp_path / "pairs" / PIECES, np.array([[5, -1], [7, -1], [9, -1], [5, -1], [5, 9]], dtype=np.int32),
            allow_pickle=False)
    with pytest.raises(ConfigError, match="repeats a row"):
        StaticEncoder(tmp_path / "pairs", tokenizer=FakeTokenizer())


def test_word_rows_follow_the_piece_rows(tmp_path):
    from matcher.encoders.static import WORDS, WordMatcher

    assert WordMatcher(["자율주행", "로봇", "주행", "robot"])("자율주행로봇의 robot robots 로봇을") == [0, 1, 3, 1]
    vectors = write_artefact(tmp_path / "words")
    word = np.full(8, 0.5, dtype=np.float16)
    np.save(tmp_path / "words" / VECTORS, np.vstack([vectors.astype(np.float16), word]), allow_pickle=False)
    with pytest.raises(ConfigError, match="no 'words.json'"):
        StaticEncoder(tmp_path / "words", tokenizer=FakeTokenizer())
    (tmp_path / "words" / WORDS).write_text(json.dumps(["map"]), encoding="utf-8")
    enc = StaticEncoder(tmp_path / "words", tokenizer=FakeTokenizer())
    expected = vectors[0] + vectors[2] + word.astype(np.float32)  # "map" is a piece and a listed word
    np.testing.assert_allclose(enc.encode_documents(["robot map"])[0], expected / np.linalg.norm(expected), atol=1e-6)
