"""A demand's texts are encoded once per request: its facets share one batch per encoder, and the page's
match + bundles of the same demand encode nothing more (``retrieval/querycache.py``, ``matching/tablecache.py``)."""

from __future__ import annotations

import pytest

from matcher.matching.demand import DemandMatcher
from matcher.matching.tablecache import TableCachingMatcher
from matcher.records import DemandProfile
from matcher.retrieval.querycache import QueryVectorCache
from matcher.store import IndexStore
from tests.fakes import FakeEncoder

DEMAND = DemandProfile(
    text="We need a compact battery pack for delivery robots with indoor localisation.",
    requirements=(
        "리튬이온 배터리의 충전 상태 추정",
        "indoor localisation of mobile robots with LiDAR",
        "물류 창고 이동로봇 경로 계획",
    ),
)


def _calls(encoders: dict[str, FakeEncoder]) -> dict[str, int]:
    return {name: enc.calls for name, enc in encoders.items()}


@pytest.mark.parametrize("matcher_class", [DemandMatcher, TableCachingMatcher])
def test_match_and_bundles_encode_each_text_once(fake_demo_index, fake_encoders, matcher_class):
    version = IndexStore(fake_demo_index).load(dict(fake_encoders))
    version.retriever.query_cache = QueryVectorCache()  # nothing of this demand seen yet
    matcher = matcher_class(version)
    before = _calls(fake_encoders)
    matcher.match(DEMAND, 10)
    matcher.bundles(DEMAND)
    used = {name: n - before[name] for name, n in _calls(fake_encoders).items()}
    multi = version.retriever.primary_encoder
    assert used[multi] == 1, used  # the whole text, 3 requirements and the translated words: one batch
    english = version.retriever.config.dense_en
    if english and english != multi:
        has_english_docs = bool(version.retriever.dense_rows(english).size)
        assert used[english] == (1 if has_english_docs else 0), used
    again = _calls(fake_encoders)
    matcher.match(DEMAND, 10)
    matcher.bundles(DEMAND)
    assert _calls(fake_encoders) == again  # a second identical request encodes nothing
