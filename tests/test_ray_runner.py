"""The embed stage on a local 2-CPU Ray cluster (``matcher build --runner ray``): the vectors equal the local
runner's, the embedding cache still keeps known texts away from the cluster, the command's JSON stays clean.

Slow: starts Ray and loads real encoders in its actors. Skipped, saying why, when Ray is not installed
(an optional extra: ``pip install '.[ray]'``; ``scripts/setup.sh`` installs it)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import numpy as np
import pytest

from matcher.build import build_index, stage_build
from matcher.cli import main
from matcher.ingest import read_corpus
from matcher.retrieval.config import resolve_pipeline
from matcher.runners import get_runner

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                       reason="Ray is not installed (pip install '.[ray]'): the ray runner is an optional extra"),
]


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray cluster of 2 CPUs for the module (the runners connect to it, and leave it running)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield ray
    ray.shutdown()


def _staged(build, name: str) -> np.ndarray:
    return np.load(build.path / "embeddings" / f"{name}.npy")


def test_ray_vectors_equal_local_ones_and_the_cache_skips_known_texts(ray_cluster, demo_corpus, use_m3, tmp_path,
                                                                       capsys):
    corpus = read_corpus(demo_corpus)
    pipeline = resolve_pipeline("use")  # use-m3 alone: pure numpy, loads fast in each actor
    local = stage_build(corpus, tmp_path / "local", pipeline, encoders={"use-m3": use_m3})

    half = dataclasses.replace(corpus, technologies=corpus.technologies[: len(corpus.technologies) // 2])
    first = get_runner("ray")
    result = build_index(half, tmp_path / "ray", pipeline, encoders={"use-m3": use_m3}, runner=first)
    assert result.runner == "ray" and result.embedded == first.sent == len({t.text for t in half.technologies})

    rest = get_runner("ray")
    staged = stage_build(corpus, tmp_path / "ray", pipeline, encoders={"use-m3": use_m3}, runner=rest)
    texts = {t.text for t in corpus.technologies}
    assert rest.sent == staged.embedded == len(texts - {t.text for t in half.technologies})  # only the new texts
    ray_vectors, local_vectors = _staged(staged, "use-m3"), _staged(local, "use-m3")
    assert ray_vectors.shape == local_vectors.shape == (len(corpus.technologies), 512)
    assert float(np.abs(ray_vectors - local_vectors).max()) < 1e-5

    # the command, on the same cache: nothing new to embed, nothing sent to the cluster, stdout only the JSON
    capsys.readouterr()
    code = main(["build", "--corpus", str(demo_corpus), "--index", str(tmp_path / "cli"), "--pipeline", "use",
                 "--cache", str(tmp_path / "ray" / "embeddings.sqlite"), "--runner", "ray", "--json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["runner"] == "ray" and out["embedded"] == 0 and out["count"] == len(corpus.technologies)
    assert ray_cluster.is_initialized()  # the runner did not stop a cluster it did not start


def _cached(path) -> dict[tuple[str, str, str], np.ndarray]:
    import sqlite3

    with sqlite3.connect(str(path)) as db:
        return {(e, r, h): np.frombuffer(v, dtype=np.float32) for e, r, h, v in db.execute("SELECT * FROM embeddings")}


def test_the_default_hybrid_pipeline_through_ray_equals_local(ray_cluster, demo_corpus, minilm, use_m3, tmp_path):
    """Both encoders (MiniLM on torch, USE) and the translator's vocabulary through the actors."""
    encoders = {"minilm": minilm, "use-m3": use_m3}
    runner = get_runner("ray")
    remote = build_index(demo_corpus, tmp_path / "ray", resolve_pipeline("hybrid"), encoders=encoders, runner=runner)
    local = build_index(demo_corpus, tmp_path / "local", resolve_pipeline("hybrid"), encoders=encoders)
    assert remote.embedded == local.embedded == runner.sent > remote.count  # documents and vocabulary terms
    ray_vectors, local_vectors = _cached(tmp_path / "ray" / "embeddings.sqlite"), _cached(tmp_path / "local" / "embeddings.sqlite")
    assert set(ray_vectors) == set(local_vectors) and {k[0].split("/")[0] for k in ray_vectors} == {"minilm", "use-m3"}
    assert max(float(np.abs(ray_vectors[k] - local_vectors[k]).max()) for k in ray_vectors) < 1e-5
