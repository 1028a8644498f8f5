"""Index versions on disk: publish atomically, load, refuse a mismatched encoder, survive interruption."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matcher.build import build_index
from matcher.errors import IndexMismatchError, InputFileError, NotFoundError
from matcher.retrieval.config import PipelineConfig, resolve_pipeline
from matcher.search import Searcher, open_index
from matcher.store import IndexStore

DENSE = PipelineConfig.dense_only("minilm")


@pytest.fixture(scope="module")
def encoders(minilm, use_m3):
    return {"minilm": minilm, "use-m3": use_m3}


@pytest.fixture(scope="module")
def built(demo_corpus, encoders, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("index")
    result = build_index(demo_corpus, index_dir, DENSE, encoders=encoders)
    return index_dir, result


def test_manifest_and_round_trip(built, minilm):
    index_dir, result = built
    store = IndexStore(index_dir)
    assert store.current_name() == result.version
    manifest = store.read_manifest()
    for key in ("format_version", "version", "created_at", "encoders", "pipeline", "count", "corpus_hash",
                "libraries"):
        assert key in manifest
    assert manifest["count"] == result.count > 0
    assert manifest["encoders"]["minilm"]["key"] == minilm.identity.key
    assert {"faiss-cpu", "numpy", "python"} <= set(manifest["libraries"])
    version = store.load({"minilm": minilm})
    assert len(version.technologies) == result.count
    # vectors saved == vectors recomputed (documents); a document's own text finds it, at the cosine of an int8
    # query vector to its float document vector (minilm's queries run int8: ≈ 0.995)
    rows, index = version.retriever.dense_["minilm"]
    local = int(np.flatnonzero(rows == 3)[0])
    np.testing.assert_allclose(index.vectors(np.array([local]))[0],
                               minilm.encode_documents([version.technologies[3].text])[0], atol=1e-5)
    hits = Searcher(version).search(version.technologies[3].text, 1)
    assert hits[0].technology.id == version.technologies[3].id
    assert hits[0].components["dense"] == pytest.approx(1.0, abs=0.02)


def test_hybrid_default_pipeline_round_trip(demo_corpus, encoders, tmp_path):
    pipeline = resolve_pipeline()
    result = build_index(demo_corpus, tmp_path / "idx", pipeline, encoders=encoders, cache_path=tmp_path / "c.sqlite")
    version = IndexStore(tmp_path / "idx").load(encoders)
    assert version.manifest["pipeline"]["name"] == pipeline.name and set(version.manifest["encoders"]) == set(
        pipeline.encoders)
    searcher = Searcher(version)
    korean = searcher.search("배터리 관리 시스템의 충전 상태 추정", 5)
    english = searcher.search("battery state of charge estimation", 5)
    assert korean and english and result.count == len(version.technologies)
    assert {h.technology.id for h in korean} & {h.technology.id for h in english}
    assert korean[0].components["route"] == "ko" and english[0].components["query_language"] == "en"


def test_rebuild_unchanged_embeds_nothing(built, demo_corpus, encoders):
    index_dir, first = built
    again = build_index(demo_corpus, index_dir, DENSE, encoders=encoders)
    assert again.embedded == 0 and again.reused == again.count == first.count
    assert again.version != first.version
    assert IndexStore(index_dir).read_manifest()["corpus_hash"] == IndexStore(index_dir).read_manifest(first.path)[
        "corpus_hash"
    ]


def test_mismatched_encoder_refused(built, use_m3):
    index_dir, _ = built
    with pytest.raises(IndexMismatchError, match="built with encoder 'minilm/384/.*configured encoder is 'use-m3/512"):
        IndexStore(index_dir).load({"minilm": use_m3})
    with pytest.raises(IndexMismatchError, match="configured encoder is 'use-m3/512"):
        open_index(index_dir, "use-m3")


def test_interrupted_publish_keeps_last_good(built, minilm):
    index_dir, _ = built
    store = IndexStore(index_dir)
    before = store.current_name()

    def failing_write(staging):
        (staging / "half-written.bin").write_bytes(b"\0" * 10)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.publish(failing_write, {"count": 0})
    assert store.current_name() == before
    assert not list((index_dir / "versions").glob(".staging-*"))
    store.load({"minilm": minilm})  # still serves


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(NotFoundError, match="no such index directory"):
        IndexStore(tmp_path / "nope").load()
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFoundError, match="no published index version"):
        IndexStore(tmp_path / "empty").load()


def test_old_versions_pruned(built, demo_corpus, encoders):
    index_dir, _ = built
    for _ in range(4):
        build_index(demo_corpus, index_dir, DENSE, encoders=encoders, keep_versions=3)
    store = IndexStore(index_dir)
    assert len(store.versions()) == 3 and store.current_name() in store.versions()


def test_format_version_checked(built):
    index_dir, _ = built
    store = IndexStore(index_dir)
    path = store.current_path()
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = 999
    (path / "manifest.json").write_text(json.dumps(manifest))
    try:
        with pytest.raises(IndexMismatchError, match="format version 999"):
            store.read_manifest()
    finally:
        manifest["format_version"] = 1
        (path / "manifest.json").write_text(json.dumps(manifest))


def test_approximate_backend_build(demo_corpus, encoders, tmp_path):
    result = build_index(demo_corpus, tmp_path / "hnsw", DENSE, encoders=encoders, backend="hnsw",
                         cache_path=tmp_path / "c.sqlite")
    version = IndexStore(tmp_path / "hnsw").load(encoders)
    assert result.backend == "hnsw"
    assert version.manifest["retriever"]["dense"]["minilm"]["backend"] == "hnsw"
    hits = Searcher(version).search("battery", 5)
    assert len(hits) == 5 and all(np.isfinite(h.score) for h in hits)


def _records_version(tmp_path, technologies, *, vouched=True):
    from matcher.store.versions import write_records

    tmp_path.mkdir(exist_ok=True)
    entry = write_records(tmp_path, technologies)
    return {"records": entry} if vouched else {}


def test_records_read_back_vouched_or_checked(tmp_path):
    """A manifest that records the records file's SHA-256: rows read unchecked, equal to the checked read."""
    from matcher.records import Technology
    from matcher.store.versions import RECORDS, read_records

    techs = [Technology(id=f"T{i}", title=f"배터리 {i}", applicants=("가온대학교",), ipc=("H01M",),
                        application_date=f"2020-01-0{i + 1}", trl=i + 1) for i in range(3)]
    manifest = _records_version(tmp_path, techs)
    assert manifest["records"]["file"] == RECORDS and manifest["records"]["sha256"].startswith("sha256:")
    assert manifest["records"]["bytes"] == (tmp_path / RECORDS).stat().st_size
    assert read_records(tmp_path, manifest) == read_records(tmp_path, {}) == techs


def test_records_edited_after_publishing_refused(tmp_path):
    from matcher.records import Technology
    from matcher.store.versions import RECORDS, read_records

    techs = [Technology(id="T1", title="배터리", legal_status="등록"), Technology(id="T2", title="로봇")]
    manifest = _records_version(tmp_path, techs)
    path = tmp_path / RECORDS
    path.write_text(path.read_text(encoding="utf-8").replace("등록", "소멸"), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"technologies\.jsonl: content sha256:\w+ is not the sha256:\w+ "
                                                 r"its manifest records; the file was changed after"):
        read_records(tmp_path, manifest)
    # a version built before manifests recorded the digest: every row checked, an edited content refused
    path.write_text(path.read_text(encoding="utf-8").replace("로봇", "드론"), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"technologies\.jsonl: line 2: field 'content_hash'"):
        read_records(tmp_path, {})


def test_built_manifest_vouches_for_its_records(fake_demo_index):
    from matcher.store.versions import RECORDS, file_sha256

    store = IndexStore(fake_demo_index)
    manifest = store.read_manifest()
    assert manifest["records"]["sha256"] == file_sha256(store.current_path() / RECORDS)


def test_gc_paused_while_loading_and_restored():
    import gc

    from matcher.store.versions import paused_gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
