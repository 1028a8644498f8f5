"""A demand matcher that keeps its recent score tables: ``match`` then ``bundles`` of one demand (what
the officers' page asks for) score the demand once.

The score table (requirements, whole-demand scores, components, candidates × requirements scores) is
the expensive part of both operations (one search per requirement and then some). It depends only on
the index version (one matcher per version), the demand and the visibility mask, which make the key.
Callers get a copy (``ScoreTable.copy``), so a caller changing its table never changes another's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from typing import Any

import numpy as np

from matcher.lru import LRU
from matcher.matching.demand import DemandMatcher, ScoreTable
from matcher.records import DemandProfile

#: Score tables kept per matcher (per index version). One holds ≈ 100 candidates × R requirements
#: floats and their score components: tens of KiB.
SCORE_TABLE_CACHE_SIZE = 64


def _mask_key(mask: Any) -> str:
    if mask is None:
        return "all"
    arr = np.ascontiguousarray(np.asarray(mask))
    return f"{arr.dtype}{arr.shape}:" + hashlib.blake2b(arr.tobytes(), digest_size=16).hexdigest()


def _demand_key(demand: DemandProfile) -> str:
    data = dataclasses.asdict(demand) if dataclasses.is_dataclass(demand) else vars(demand)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


class TableCachingMatcher(DemandMatcher):
    """:class:`DemandMatcher` whose ``score_table`` answers a repeated (demand, visibility) from a cache."""

    def __init__(self, *args: Any, table_cache_size: int = SCORE_TABLE_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tables: LRU[tuple[Any, ...], ScoreTable] = LRU(table_cache_size)
        self._table_locks: LRU[tuple[Any, ...], threading.Lock] = LRU(4 * max(1, table_cache_size))
        self._locks_lock = threading.Lock()

    def score_table(self, demand: DemandProfile, visible: np.ndarray | None = None,
                     *args: Any, **kwargs: Any) -> ScoreTable:
        key = (_demand_key(demand), _mask_key(visible), repr(args),
               repr(sorted((k, _mask_key(v) if isinstance(v, np.ndarray) else repr(v)) for k, v in kwargs.items())))
        table = self._tables.get(key)
        if table is None:
            with self._locks_lock:  # one computation per key at a time: match and bundles arriving together
                lock = self._table_locks.get(key)
                if lock is None:
                    lock = threading.Lock()
                    self._table_locks.put(key, lock)
            with lock:
                table = self._tables.get(key)
                if table is None:
                    table = super().score_table(demand, visible, *args, **kwargs)
                    self._tables.put(key, table)
        return table.copy()
