"""The token cache: a build analyses only texts it has not analysed before (same analyzer and kiwipiepy),
and the index it writes is byte-identical to one whose every text was analysed (fake encoders)."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import numpy as np

from matcher import build_stages
from matcher.build import build_index
from matcher.encoders.cache import EmbeddingCache
from matcher.ingest import Corpus, read_corpus
from matcher.retrieval.config import resolve_pipeline
from matcher.retrieval.querycache import QueryVectorCache
from matcher.retrieval.retriever import HybridRetriever
from matcher.retrieval.tokencache import AnalysedText, TokenCache, analyzer_key
from matcher.store import IndexStore
from matcher.store.staging import BuildStaging
from matcher.text.tokenize import AnalyzerConfig
from tests.fakes import fake_encoders


def _changed(corpus: Corpus, position: int = 0) -> Corpus:
    techs = list(corpus.technologies)
    tech = techs[position]
    techs[position] = dataclasses.replace(tech, abstract=tech.abstract + " 추가된 문장의 배터리 설명", content_hash="")
    return dataclasses.replace(corpus, technologies=techs)


def _files(version: Path) -> dict[str, bytes]:
    """The version's index files by relative path (the manifest, which names times and stages, aside)."""
    return {p.relative_to(version).as_posix(): p.read_bytes() for p in sorted(version.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


def _retriever() -> HybridRetriever:
    return HybridRetriever(resolve_pipeline("hybrid"), fake_encoders(), query_cache=QueryVectorCache())


def test_tokenize_stage_analyses_only_texts_not_cached(demo_corpus, tmp_path):
    technologies = list(read_corpus(demo_corpus).technologies)
    texts = [t.text for t in technologies]
    retriever = _retriever()
    cache = TokenCache(tmp_path / "cache.sqlite")
    try:
        first = build_stages.tokenize(technologies, retriever, BuildStaging(tmp_path / "s1"), cache=cache)
        assert first.computed == len(set(texts)) and first.outputs["computed"] == first.computed
        again = build_stages.tokenize(technologies, retriever, BuildStaging(tmp_path / "s2"), cache=cache)
        assert again.computed == 0 and again.reused == len(texts) and again.outputs["reused"] is False
        plain = retriever.tokenize(texts)  # no cache: every text analysed
        assert again.value == plain == first.value
        changed = list(_changed(Corpus(technologies=technologies)).technologies)
        redo = build_stages.tokenize(changed, retriever, BuildStaging(tmp_path / "s3"), cache=cache)
        assert redo.computed == 1
        assert redo.value == retriever.tokenize([t.text for t in changed])
    finally:
        cache.close()


def test_cached_build_is_byte_identical_to_a_full_analysis(demo_corpus, tmp_path):
    corpus = read_corpus(demo_corpus)
    index_dir = tmp_path / "index"
    first = build_index(corpus, index_dir, encoders=dict(fake_encoders()))
    assert first.tokenized == len({t.text for t in corpus.technologies}) > 0
    assert TokenCache(index_dir / "embeddings.sqlite").count() == first.tokenized
    second = build_index(corpus, index_dir, encoders=dict(fake_encoders()))
    assert second.tokenized == 0 and second.to_dict()["tokenized"] == 0
    changed = _changed(corpus, 3)
    third = build_index(changed, index_dir, encoders=dict(fake_encoders()))
    assert third.tokenized == 1
    manifest = IndexStore(index_dir).read_manifest(third.path)
    assert manifest["stages"]["tokenize"]["computed"] == 1

    fresh = build_index(changed, tmp_path / "fresh", encoders=dict(fake_encoders()))  # an empty cache
    assert fresh.tokenized == first.tokenized
    cached_files, fresh_files = _files(third.path), _files(fresh.path)
    assert any(name.startswith("bm25") for name in cached_files)
    assert cached_files.keys() == fresh_files.keys()
    assert [n for n in cached_files if cached_files[n] != fresh_files[n]] == []


def test_a_cache_file_without_the_tokens_table_still_works(demo_corpus, tmp_path):
    path = tmp_path / "old.sqlite"
    old = EmbeddingCache(path)  # the schema before the token cache: the embeddings table only
    old.put_many("some-encoder", "document", {"h": np.ones(3, dtype=np.float32)})
    old.close()
    with sqlite3.connect(path) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["embeddings"]
    result = build_index(demo_corpus, tmp_path / "index", encoders=dict(fake_encoders()), cache_path=path)
    assert result.tokenized > 0
    cache = EmbeddingCache(path)
    assert cache.count("some-encoder") == 1  # the embeddings are untouched
    cache.close()
    tokens = TokenCache(path)
    assert tokens.count() == result.tokenized
    tokens.close()


def test_token_cache_keys_on_the_analyzer(tmp_path):
    cache = TokenCache(tmp_path / "c.sqlite")
    try:
        base = analyzer_key(AnalyzerConfig())
        other = analyzer_key(dataclasses.replace(AnalyzerConfig(), hangul_bigrams=not AnalyzerConfig().hangul_bigrams))
        assert base != other
        cache.put_many(base, {"배터리 관리": AnalysedText(["배터리", "관리"], ["관리", "배터리"])})
        assert cache.get_many(base, ["배터리 관리", "없는 글"]) == {
            "배터리 관리": AnalysedText(["배터리", "관리"], ["관리", "배터리"])}
        assert cache.get_many(other, ["배터리 관리"]) == {}
    finally:
        cache.close()
