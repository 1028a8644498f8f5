"""Recent answers of the read-only API operations, per index version: identical requests computed once.

Each :class:`~service.state.Snapshot` owns one :class:`ResultCache`, so a newly published index
version starts empty and can never serve an answer computed on the old one. A key is (route, viewer,
canonical JSON of the validated request body): two keys with different visibility never share an
answer. Entries expire after ``ttl`` seconds and the least recently used go first beyond ``maxsize``.
Identical requests arriving together are computed once: the others wait for the first one's answer
(an error is not cached; the waiters then compute for themselves).

Cached answers are shared between requests: route code must treat them as read-only.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from pydantic import BaseModel

from matcher.errors import ConfigError
from matcher.settings import default_of, settings_from_env

#: Answers kept per index version (``MATCHER_RESULT_CACHE_SIZE``). A match or bundles answer is a few tens
#: of KiB of JSON-able dicts, so 256 entries stay within a few MiB.
RESULT_CACHE_SIZE: int = default_of("result_cache_size")
#: Seconds an answer is served from the cache (``MATCHER_RESULT_CACHE_TTL``). Answers depend only on the
#: index version (which the cache belongs to) and the request, so this bounds memory held by one-off
#: requests, not staleness.
RESULT_CACHE_TTL: float = default_of("result_cache_ttl")

T = TypeVar("T")


def _compute_slots() -> threading.BoundedSemaphore | None:
    """``MATCHER_COMPUTE_SLOTS`` (≥ 1): at most that many answers computed at once; unset or 0: unbounded."""
    value = settings_from_env().compute_slots
    return threading.BoundedSemaphore(value) if value > 0 else None


def canonical(body: BaseModel | dict[str, Any] | None) -> str:
    """The request body as canonical JSON (sorted keys, defaults included): equal requests, equal text."""
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else (body or {})
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class ResultCache:
    """A TTL + LRU map from request keys to answers, safe to share between request threads."""

    def __init__(self, maxsize: int = RESULT_CACHE_SIZE, ttl: float = RESULT_CACHE_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not isinstance(maxsize, int) or maxsize < 0:
            raise ConfigError(f"result cache size must be an integer >= 0, got {maxsize!r}")
        if not isinstance(ttl, int | float) or ttl < 0:
            raise ConfigError(f"result cache ttl must be a number of seconds >= 0, got {ttl!r}")
        self.maxsize = maxsize
        self.ttl = float(ttl)
        self._clock = clock
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._slots = _compute_slots()

    def _compute(self, compute: Callable[[], T]) -> T:
        if self._slots is None:
            return compute()
        with self._slots:
            return compute()

    @classmethod
    def from_env(cls) -> ResultCache:
        """Sized by ``MATCHER_RESULT_CACHE_SIZE`` (0 disables) and ``MATCHER_RESULT_CACHE_TTL`` (seconds)."""
        settings = settings_from_env()
        return cls(settings.result_cache_size, settings.result_cache_ttl)

    @property
    def enabled(self) -> bool:
        return self.maxsize > 0 and self.ttl > 0

    @staticmethod
    def key(route: str, viewer: Hashable, body: BaseModel | dict[str, Any] | None) -> Hashable:
        return (route, viewer, canonical(body))

    def _get(self, key: Hashable) -> tuple[bool, Any]:
        """(found, value) under the lock; expired entries are dropped."""
        entry = self._data.get(key)
        if entry is None:
            return False, None
        expires, value = entry
        if self._clock() >= expires:
            del self._data[key]
            return False, None
        self._data.move_to_end(key)
        return True, value

    def _put(self, key: Hashable, value: Any) -> None:
        self._data[key] = (self._clock() + self.ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def get_or_compute(self, route: str, viewer: Hashable, body: BaseModel | dict[str, Any] | None,
                       compute: Callable[[], T]) -> T:
        """The cached answer to this request, or ``compute()``'s (then cached)."""
        if not self.enabled:
            return self._compute(compute)
        key = self.key(route, viewer, body)
        while True:
            with self._lock:
                found, value = self._get(key)
                if found:
                    self.hits += 1
                    return value  # type: ignore[no-any-return]
                waiting = self._pending.get(key)
                if waiting is None:  # this request computes; identical ones arriving now wait for it
                    event = self._pending[key] = threading.Event()
                    self.misses += 1
                    break
            waiting.wait()
            with self._lock:
                found, value = self._get(key)
                if found:
                    self.hits += 1
                    return value  # type: ignore[no-any-return]
            return self._compute(compute)  # the first attempt failed: do not wait again, compute for ourselves
        try:
            value = self._compute(compute)
            with self._lock:
                self._put(key, value)
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            event.set()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
