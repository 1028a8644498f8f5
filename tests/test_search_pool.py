"""``HybridRetriever.search_pool`` (each text searched once, its pool's scores from the same work) against the
two passes it replaces — every text's top k, then every text again over the union (``within``) — and
``DemandMatcher``'s answers with it against the matcher that searched each text twice: equal, to the bit.

The retriever part runs on the synthetic corpus of ``test_sampled_stats.py`` (exact, HNSW and IVF channels,
small samples, every normalisation, filters large and small); the matcher part on the demo corpus over the
fake encoders, with its dense channels exact and forced onto the approximate path (a small sample, no
exact small-filter shortcut)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest

from matcher.matching.demand import DemandMatcher, ScoreTable
from matcher.matching.tablecache import TableCachingMatcher
from matcher.records import DemandProfile
from matcher.retrieval.retriever import HybridRetriever, Scored
from matcher.store import IndexStore
from tests.conftest import DEMO
from tests.test_sampled_stats import Corpus, N


def two_passes(model: HybridRetriever, texts: Sequence[str], k: int,
               allowed: np.ndarray | None = None) -> tuple[list[int], list[list[Scored]]]:
    """What the matcher did before ``search_pool``: each text's top k, then each text over their union."""
    pool = sorted({h.position for text in texts for h in model.search(text, k, allowed=allowed)})
    if not pool:
        return [], [[] for _ in texts]
    within = np.zeros(model.document_count, dtype=bool)
    within[pool] = True
    return pool, [model.search(text, len(pool), allowed=allowed, within=within) for text in texts]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus()


def filters() -> dict[str, np.ndarray | None]:
    large = np.zeros(N, dtype=bool)
    large[::2] = True
    return {"none": None, "large": large, "small": np.arange(0, N, 7)}


@pytest.mark.parametrize("backend", ["flat", "hnsw", "ivf"])
@pytest.mark.parametrize("normalisation", ["zscore", "minmax", "rrf"])
@pytest.mark.parametrize("lexical", [True, False])
def test_search_pool_equals_two_passes(corpus, backend, normalisation, lexical):
    model = corpus.retriever(backend, sample_size=256, exact_rows=400, normalisation=normalisation,
                             lexical=lexical)
    texts = list(corpus.queries)
    for name, allowed in filters().items():
        for start in range(0, 12, 4):  # a demand: its whole text and requirements, four texts
            group = texts[start:start + 4]
            got = model.search_pool(group, 10, allowed=allowed)
            want = two_passes(model, group, 10, allowed)
            assert got[0] == want[0], name
            assert got[1] == want[1], name  # positions, fused scores and every component, exactly
            assert all(len(hits) == len(got[0]) for hits in got[1])


def test_search_pool_edges(corpus):
    model = corpus.retriever("hnsw", sample_size=256)
    texts = list(corpus.queries)[:2]
    assert model.search_pool(texts, 10, allowed=np.zeros(N, dtype=bool)) == ([], [[], []])
    assert model.search_pool(texts, 0) == ([], [[], []])
    assert model.search_pool([], 10) == ([], [])
    pool, hits = model.search_pool(texts, 5, allowed=np.arange(3))  # fewer allowed than k
    assert pool == [0, 1, 2] and [sorted(h.position for h in found) for found in hits] == [pool, pool]


# ------------------------------------------------------------------ the matcher's answers
class TwoPassMatcher(DemandMatcher):
    """The matcher as it was: each text searched for its pool, then again over every candidate."""

    def score_table(self, demand: DemandProfile, visible: np.ndarray | None = None,
                    include_inactive: bool = False) -> ScoreTable:
        retriever = self.version.retriever
        allowed = self.allowed(demand, visible, include_inactive)
        reqs = self.requirements(demand)
        texts = [demand.query_text, *reqs]
        retriever.prepare(texts)
        candidates, hits = two_passes(retriever, texts, self.pool, allowed)
        return self._scored(reqs, texts, candidates, hits)


def demo_demands() -> list[DemandProfile]:
    rows = [json.loads(line) for name in ("demands.jsonl", "demands-handwritten.jsonl")
            for line in (DEMO / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [DemandProfile(text=r["text"], requirements=tuple(r.get("requirements", ()))) for r in rows]


@pytest.fixture(scope="module", params=["exact", "approximate"])
def version(request, fake_demo_index, fake_encoders):
    loaded = IndexStore(fake_demo_index).load(dict(fake_encoders))
    if request.param == "approximate":  # every dense channel on the sampled path, even under filters
        retriever = loaded.retriever
        retriever.sample_size, retriever.exact_rows = 16, 0
        retriever.reindex_dense("hnsw")
        assert set(retriever.samples_) == set(retriever.config.encoders)
    return loaded


def test_match_and_bundles_answers_unchanged(version):
    new, old = DemandMatcher(version), TwoPassMatcher(version)
    demands = demo_demands()
    assert len(demands) > 40
    for demand in demands:
        got, want = new.score_table(demand), old.score_table(demand)
        assert got.positions == want.positions
        for part in ("fused", "relevance", "whole", "whole_relevance"):
            np.testing.assert_array_equal(getattr(got, part), getattr(want, part))
        assert got.components == want.components
        assert new.match(demand, 10).to_dict() == old.match(demand, 10).to_dict()
        assert new.bundles(demand).to_dict() == old.bundles(demand).to_dict()
    for demand in demands[:8]:
        assert new.match(demand, 5, include_inactive=True).to_dict() == \
            old.match(demand, 5, include_inactive=True).to_dict()


def test_cached_tables_are_copies(version):
    matcher = TableCachingMatcher(version)
    demand = demo_demands()[0]
    first = matcher.score_table(demand)
    want = DemandMatcher(version).score_table(demand)
    first.fused[:] = -1.0
    first.positions.append(-1)
    next(iter(first.components.values()))["lexical"] = "changed"
    again = matcher.score_table(demand)  # from the cache: untouched by the first caller's changes
    assert again.positions == want.positions and again.components == want.components
    np.testing.assert_array_equal(again.fused, want.fused)
