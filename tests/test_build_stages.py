"""The build in stages (tokenize → embed → index): staged outputs are reused by an interrupted build's
rerun, checked against their inputs, and removed once the version is published (fake encoders)."""

from __future__ import annotations

import dataclasses
import json
import os
import time

import numpy as np
import pytest

from matcher import build_stages
from matcher.build import build_index, stage_build
from matcher.errors import ConfigError
from matcher.ingest import read_corpus
from matcher.retrieval.config import PipelineConfig, resolve_pipeline
from matcher.retrieval.querycache import QueryVectorCache
from matcher.retrieval.retriever import HybridRetriever
from matcher.search import Searcher
from matcher.store import IndexStore
from matcher.store.staging import STAGING, BuildStaging, open_staging, remove_stale
from tests.fakes import fake_encoders

DOCS = [
    "자율주행 이동로봇의 실내 위치 추정을 위한 LiDAR 기반 SLAM 방법",
    "리튬이온 배터리의 충전 상태를 추정하는 배터리 관리 시스템",
    "A wearable patch that monitors heart rate and skin temperature",
    "Deep learning model for detecting defects in semiconductor wafers",
]


def _calls(encoders) -> int:
    """Documents embedded (calls of ``encode_documents``; the version check's one query is not one)."""
    return sum(e.document_calls for e in encoders.values())


class Interrupted(Exception):
    pass


def _interrupt_index(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise Interrupted("killed during the index stage")

    monkeypatch.setattr(build_stages, "index", fail)


def test_fit_is_tokenize_embed_fit_from():
    pipeline = resolve_pipeline("hybrid")
    whole = HybridRetriever(pipeline, fake_encoders(), query_cache=QueryVectorCache()).fit(DOCS)
    encoders = fake_encoders()
    staged = HybridRetriever(pipeline, encoders, query_cache=QueryVectorCache())
    tokens = staged.tokenize(DOCS)
    embeddings = staged.embed(DOCS, tokens)
    assert embeddings.vocabulary is not None and len(embeddings.vocabulary) == len(tokens.vocabulary) > 0
    assert list(embeddings.dense["minilm"].rows) == [2, 3]  # the English-only encoder skips Korean documents
    calls = _calls(encoders)
    staged.fit_from(DOCS, tokens, embeddings)
    assert _calls(encoders) == calls  # fitting from staged inputs embeds nothing
    for query in ("배터리 충전 상태", "wafer defect detection", "robot localisation"):
        a = [(h.position, round(h.score, 6)) for h in whole.search(query, 4)]
        b = [(h.position, round(h.score, 6)) for h in staged.search(query, 4)]
        assert a == b


def test_fit_from_refuses_inputs_that_do_not_fit():
    retriever = HybridRetriever(resolve_pipeline("hybrid"), fake_encoders(), query_cache=QueryVectorCache())
    tokens = retriever.tokenize(DOCS)
    embeddings = retriever.embed(DOCS, tokens)
    with pytest.raises(ConfigError, match="needs the tokens of all 3 documents, got 4"):
        retriever.fit_from(DOCS[:3], tokens, embeddings)
    with pytest.raises(ConfigError, match="no document vectors for encoder 'use-m3'"):
        retriever.fit_from(DOCS, tokens, type(embeddings)({"minilm": embeddings.dense["minilm"]}))


def test_interrupted_build_resumes_after_embed(demo_corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    first = fake_encoders()
    with monkeypatch.context() as patch:
        _interrupt_index(patch)
        with pytest.raises(Interrupted):
            build_index(demo_corpus, index_dir, encoders=dict(first))
    assert _calls(first) > 0 and IndexStore(index_dir).versions() == []  # nothing published
    (staging,) = (index_dir / STAGING).iterdir()
    staged = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    assert staged == [".lock", "embeddings/minilm.json", "embeddings/minilm.npy", "embeddings/use-m3.json",
                      "embeddings/use-m3.npy", "embeddings/use-m3.vocabulary.json",
                      "embeddings/use-m3.vocabulary.npy", "tokens.json", "tokens.jsonl"]
    described = json.loads((staging / "embeddings" / "use-m3.json").read_text())
    assert described["key"] == first["use-m3"].identity.key and described["dimension"] == 80
    assert len(described["ids"]) == np.load(staging / "embeddings" / "use-m3.npy").shape[0]
    (index_dir / "embeddings.sqlite").unlink()  # the embedding cache cannot help: only the staged vectors can

    second = fake_encoders()
    result = build_index(demo_corpus, index_dir, encoders=dict(second))
    assert _calls(second) == 0 and result.embedded == 0 and result.reused > result.count
    assert not staging.exists()  # published: the staging directory is gone
    manifest = IndexStore(index_dir).read_manifest()
    stages = manifest["stages"]
    assert stages["kept"] is False and stages["tokenize"]["reused"] is True
    assert {name: out["reused"] for name, out in stages["embed"].items()} == {
        "minilm": True, "use-m3": True, "use-m3 vocabulary": True}
    assert {"korean.npy", "dense-use-m3/rows.npy", "translate_vectors.npy"} <= set(stages["index"]["files"])

    # the same index as a build that was never interrupted
    plain = build_index(demo_corpus, tmp_path / "plain", encoders=dict(fake_encoders()))
    resumed = IndexStore(index_dir).load(dict(second))
    fresh = IndexStore(tmp_path / "plain").load(dict(fake_encoders()))
    assert np.array_equal(resumed.retriever.document_vectors(), fresh.retriever.document_vectors())
    assert plain.count == result.count
    query = "배터리 충전 상태 추정"
    assert [(h.technology.id, round(h.score, 6)) for h in Searcher(resumed).search(query, 5)] == \
        [(h.technology.id, round(h.score, 6)) for h in Searcher(fresh).search(query, 5)]
    assert sorted(p.name for p in resumed.path.iterdir()) == sorted(p.name for p in fresh.path.iterdir())


def test_stage_build_farms_out_the_embedding(demo_corpus, tmp_path):
    index_dir = tmp_path / "index"
    worker = fake_encoders()
    staged = stage_build(demo_corpus, index_dir, encoders=dict(worker), cache_path=tmp_path / "worker.sqlite")
    assert staged.embedded > 0 and staged.path.is_dir() and staged.stages["tokenize"]["reused"] is False
    builder = fake_encoders()
    result = build_index(demo_corpus, index_dir, encoders=dict(builder))  # its own (empty) cache
    assert _calls(builder) == 0 and result.embedded == 0
    assert not staged.path.exists()


def test_staged_vectors_for_other_texts_are_not_reused(demo_corpus, tmp_path):
    technologies = list(read_corpus(demo_corpus).technologies)[:6]
    encoders = fake_encoders()
    retriever = HybridRetriever(resolve_pipeline("hybrid"), encoders, query_cache=QueryVectorCache())
    staging = BuildStaging(tmp_path / "staging")
    tokens = build_stages.tokenize(technologies, retriever, staging)
    first = build_stages.embed(technologies, tokens.value, retriever, staging)
    assert first.computed > 0 and first.reused == 0
    again = build_stages.embed(technologies, tokens.value, retriever, staging)
    assert again.computed == 0 and again.reused == first.computed
    assert build_stages.tokenize(technologies, retriever, staging).reused == len(technologies)
    # one text changed: its encoder's vectors are computed again, the same ids notwithstanding
    changed = [dataclasses.replace(technologies[0], abstract=technologies[0].abstract + " 추가 문장", content_hash=""),
               *technologies[1:]]
    calls = _calls(encoders)
    redo = build_stages.embed(changed, tokens.value, retriever, staging)
    assert redo.computed > 0 and _calls(encoders) > calls
    # a damaged data file is computed again, not read
    npy = staging.file("embeddings/use-m3.npy")
    npy.write_bytes(npy.read_bytes()[:-8])
    assert build_stages.embed(changed, tokens.value, retriever, staging).outputs["use-m3"]["reused"] is False


def test_dense_only_pipeline_skips_tokenize(demo_corpus, tmp_path):
    pipeline = PipelineConfig.dense_only("minilm")
    result = build_index(demo_corpus, tmp_path / "index", pipeline, encoders=dict(fake_encoders()))
    stages = IndexStore(tmp_path / "index").read_manifest(result.path)["stages"]
    assert "skipped" in stages["tokenize"] and list(stages["embed"]) == ["minilm"]


def test_stale_staging_directories_are_removed(tmp_path):
    index_dir = tmp_path / "index"
    with open_staging(index_dir, "abandoned") as old:
        old.write_json("tokens.json", {"key": "x"})
    with open_staging(index_dir, "recent") as recent:
        recent.write_json("tokens.json", {"key": "y"})
    past = time.time() - 30 * 24 * 3600
    for path in (old.path, old.path / "tokens.json", old.path / ".lock"):
        os.utime(path, (past, past))
    with open_staging(index_dir, "busy") as busy:
        for path in (busy.path, busy.path / ".lock"):
            os.utime(path, (past, past))
        assert remove_stale(index_dir) == ["abandoned"]  # "busy" is locked, "recent" is recent
    assert not old.path.exists() and recent.path.is_dir() and busy.path.is_dir()
    with pytest.raises(ValueError, match="plain non-empty name"):
        with open_staging(index_dir, "../escape"):
            pass


def test_a_second_build_of_the_same_key_waits_then_starts_afresh(tmp_path):
    import threading

    index_dir = tmp_path / "index"
    entered = threading.Event()
    seen: list[bool] = []

    def second() -> None:
        with open_staging(index_dir, "same") as staging:
            seen.append(staging.file("tokens.json").exists())

    with open_staging(index_dir, "same") as first:
        first.write_json("tokens.json", {"key": "x"})
        waiting = threading.Thread(target=lambda: (entered.set(), second()))
        waiting.start()
        entered.wait(5)
        time.sleep(0.2)
        assert not seen  # still waiting for the lock
        first.remove()  # the first build published its version
    waiting.join(10)
    assert seen == [False]  # a fresh directory, not the removed one
    assert (index_dir / STAGING / "same").is_dir()
