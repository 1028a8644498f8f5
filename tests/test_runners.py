"""Embed runners (``matcher/runners/``): the factory, the local runner, the cache sending only its misses to
a runner, and what the Ray runner refuses before Ray starts (fake encoders: the fast lane)."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.build import build_index
from matcher.encoders.cache import CachedEncoder, EmbeddingCache
from matcher.errors import ConfigError
from matcher.ingest import read_corpus
from matcher.jobs.config import load_config, parse_config
from matcher.retrieval.config import resolve_pipeline
from matcher.runners import RUNNERS, LocalRunner, get_runner
from matcher.runners.actor import EncodeActor
from matcher.settings import settings_from_env
from tests.fakes import FakeEncoder, fake_encoders

TEXTS = ["배터리 충전 상태 추정", "indoor SLAM for mobile robots", "웨어러블 심박 센서", "wafer defect detection"]

needs_ray = pytest.mark.skipif(not __import__("importlib").util.find_spec("ray"),
                               reason="Ray is not installed (pip install '.[ray]'): the ray runner is an optional extra")


def test_factory_names_the_bad_runner_and_the_valid_ones():
    assert RUNNERS == ("local", "ray")
    assert isinstance(get_runner("local"), LocalRunner)
    with pytest.raises(ConfigError, match=r"unknown runner 'spark'; valid: local, ray"):
        get_runner("spark")


def test_runner_setting_and_job_config_refuse_an_unknown_runner(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_RUNNER", "spark")
    with pytest.raises(ConfigError, match=r"MATCHER_RUNNER must be one of local, ray, got 'spark'"):
        settings_from_env()
    monkeypatch.setenv("MATCHER_RUNNER", "ray")
    assert settings_from_env().runner == "ray"
    assert parse_config({"index": "x", "job": {"runner": "ray"}}, tmp_path).job.runner == "ray"
    assert parse_config({"index": "x"}, tmp_path).job.runner is None  # MATCHER_RUNNER decides
    with pytest.raises(ConfigError, match=r"job\.runner.*'spark'"):
        parse_config({"index": "x", "job": {"runner": "spark"}}, tmp_path)


def test_local_runner_encodes_in_order_in_chunks():
    encoder = FakeEncoder("fake", 32)
    runner = LocalRunner()
    chunks = list(runner.encode_chunks(encoder, TEXTS, chunk_size=3))
    assert [list(p) for p, _ in chunks] == [[0, 1, 2], [3]]
    np.testing.assert_array_equal(runner.encode(encoder, TEXTS), encoder.encode_documents(TEXTS))
    np.testing.assert_array_equal(runner.encode(encoder, TEXTS, role="query"), encoder.encode_queries(TEXTS))
    assert runner.sent == 2 * len(TEXTS) + len(TEXTS)


class _Shuffled(LocalRunner):
    """Chunks out of order and of one text each, as a cluster returns them."""

    def encode_chunks(self, encoder, texts, *, role="document", chunk_size=512, progress=False):
        chunks = list(super().encode_chunks(encoder, texts, role=role, chunk_size=1))
        yield from reversed(chunks)


def test_cache_sends_only_its_misses_to_the_runner_and_orders_the_answers(tmp_path):
    encoder = FakeEncoder("fake", 32)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    runner = _Shuffled()
    cached = CachedEncoder(encoder, cache, runner=runner)
    first = cached.encode_documents(TEXTS[:2] + TEXTS[:1])
    assert runner.sent == 2 and cached.embedded == 2
    both = cached.encode_documents(TEXTS)
    assert runner.sent == 4 and cached.embedded == 4  # only the two new texts went to the runner
    np.testing.assert_array_equal(both, encoder.encode_documents(TEXTS))
    np.testing.assert_array_equal(first[2], both[0])
    cached.encode_documents(TEXTS)
    assert runner.sent == 4
    cache.close()


def test_cache_refuses_a_runner_that_loses_texts(tmp_path):
    class Lossy(LocalRunner):
        def encode_chunks(self, encoder, texts, *, role="document", chunk_size=512, progress=False):
            yield from list(super().encode_chunks(encoder, texts, role=role, chunk_size=1))[1:]

    cached = CachedEncoder(FakeEncoder("fake", 32), EmbeddingCache(tmp_path / "c.sqlite"), runner=Lossy())
    with pytest.raises(ValueError, match=r"no vector for 1 of 4 texts"):
        cached.encode_documents(TEXTS)


def test_build_with_the_local_runner_is_the_build_without_one(demo_corpus, tmp_path):
    corpus = read_corpus(demo_corpus)
    runner = LocalRunner()
    result = build_index(corpus, tmp_path / "a", encoders=dict(fake_encoders()), runner=runner)
    plain = build_index(corpus, tmp_path / "b", encoders=dict(fake_encoders()))
    assert result.to_dict()["runner"] == "local" == plain.runner
    assert result.embedded == plain.embedded == runner.sent > 0
    again = build_index(corpus, tmp_path / "a", encoders=dict(fake_encoders()), runner=runner)
    assert again.embedded == 0 and runner.sent == result.embedded


def test_encode_actor_loads_once_and_tags_rows_with_the_key(monkeypatch):
    loads: list[str] = []

    def load(spec: str) -> FakeEncoder:
        loads.append(spec)
        return FakeEncoder(spec, 32)

    monkeypatch.setattr("matcher.encoders.load_encoder", load)
    monkeypatch.setattr("matcher.runtime.configure_serving", lambda encoders, threads=None: threads or 1)
    monkeypatch.setenv("MATCHER_THREADS", "")  # restored after the test: the actor sets it for its process
    actor = EncodeActor("use-m3", threads=1)
    out = [actor({"row": np.array([5, 7]), "text": np.array(TEXTS[:2], dtype=object)}),
           actor({"row": np.array([1]), "text": np.array(TEXTS[2:3], dtype=object)})]
    assert loads == ["use-m3"]
    assert list(out[0]["row"]) == [5, 7] and out[0]["vector"].shape == (2, 32) and out[1]["vector"].dtype == np.float32
    np.testing.assert_array_equal(out[0]["vector"], FakeEncoder("use-m3", 32).encode_documents(TEXTS[:2]))
    assert set(out[0]["key"]) == {FakeEncoder("use-m3", 32).identity.key}


def test_ray_runner_without_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr("matcher.runners.ray_data.ray_installed", lambda: False)
    with pytest.raises(ConfigError, match=r"runner 'ray' needs Ray.*pip install '\.\[ray\]'"):
        get_runner("ray")


@needs_ray
def test_ray_runner_refuses_encoders_the_workers_cannot_rebuild(demo_corpus, tmp_path):
    corpus = read_corpus(demo_corpus)
    ray_runner = get_runner("ray")
    with pytest.raises(ConfigError, match=r"'my-model'.*is not one; registered: .*use-m3.*runner 'local'"):
        build_index(corpus, tmp_path / "a", resolve_pipeline(encoder="my-model"),
                    encoders={"my-model": FakeEncoder("my-model", 32)}, runner=ray_runner)
    # a stand-in under a registry name is not the registry's encoder either: the workers would build another
    with pytest.raises(ConfigError, match=r"'use-m3' has backend 'fake', the registry's 'use-m3' has 'usem3-int8'"):
        build_index(corpus, tmp_path / "b", resolve_pipeline("use"), encoders={"use-m3": FakeEncoder("use-m3", 512)},
                    runner=ray_runner)
    assert ray_runner.sent == 0 and not __import__("ray").is_initialized()  # refused before Ray started


@needs_ray
def test_nightly_job_runner_setting_reaches_the_build(tmp_path, monkeypatch):
    from matcher.jobs.nightly import run_nightly
    from tests.test_nightly import _setup

    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    refused = run_nightly(load_config(_setup(tmp_path, '[job]\nrunner = "ray"'), need_sources=True),
                          encoders=fake_encoders())
    assert refused.status == "failed" and "runner 'ray'" in (refused.error or "")  # fakes are not the registry's
    (tmp_path / "job.toml").write_text((tmp_path / "job.toml").read_text(encoding="utf-8").replace('"ray"', '"local"'),
                                       encoding="utf-8")
    published = run_nightly(load_config(tmp_path / "job.toml", need_sources=True), encoders=fake_encoders())
    assert published.status == "published" and published.embedded > 0
