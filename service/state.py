"""What the app serves: one immutable snapshot of the current index version, swapped when a new one is
published (hot swap without a restart).

A :class:`Snapshot` bundles an index version with its searcher, demand matcher and groups. The
:class:`Engine` holds the current snapshot and replaces it by reference under a lock; every request
takes the snapshot once, when it starts, and uses only that one, so a swap never disturbs a request in
flight. A daemon thread polls the index directory's CURRENT pointer every ``reload_interval`` seconds
and loads a newly published version (with the encoders already in memory) *before* swapping; a
version that fails to load is logged and the old one keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.access import Viewer, VisibleGroup, visible_groups, visible_mask
from matcher.encoders.base import Encoder
from matcher.errors import IndexMismatchError, MatcherError, NotFoundError
from matcher.groups import load_groups
from matcher.licensing import LicenseeRanker
from matcher.matching.demand import DemandMatcher
from matcher.matching.tablecache import TableCachingMatcher
from matcher.records import Technology
from matcher.retrieval.querycache import default_query_cache
from matcher.runtime import configure_serving, encode_slots, settle_heap
from matcher.search import Searcher, open_index, warm_up
from matcher.store import IndexStore, IndexVersion
from service.cache import ResultCache
from service.redact import without_server_paths
from service.settings import ServiceSettings

log = logging.getLogger("matcher.service")


@dataclass(frozen=True)
class Snapshot:
    """One loaded index version and everything computed from it (never mutated once built)."""

    version: IndexVersion
    searcher: Searcher
    matcher: DemandMatcher
    by_id: Mapping[str, Technology]
    groups: tuple[dict[str, Any], ...] | None
    licensees: LicenseeRanker
    _masks: dict[Viewer, np.ndarray | None] = field(default_factory=dict, repr=False, compare=False)
    #: recent answers of this version (service/cache.py): a new version starts with an empty one
    results: ResultCache = field(default_factory=ResultCache.from_env, repr=False, compare=False)

    @classmethod
    def of(cls, version: IndexVersion) -> Snapshot:
        path = version.path / "groups.json"
        groups = tuple(g.to_dict() for g in load_groups(path)) if path.is_file() else None
        return cls(version=version, searcher=Searcher(version), matcher=TableCachingMatcher(version),
                   by_id={t.id: t for t in version.technologies}, groups=groups,
                   licensees=LicenseeRanker(version))

    @property
    def name(self) -> str:
        return self.version.name

    def visible(self, viewer: Viewer) -> np.ndarray | None:
        """Mask by position of the technologies ``viewer`` may see (``None``: all), cached per viewer."""
        if viewer not in self._masks:
            self._masks[viewer] = visible_mask(self.version.technologies, viewer, self.version.registry)
        return self._masks[viewer]

    def visible_count(self, viewer: Viewer) -> int:
        mask = self.visible(viewer)
        return len(self.version.technologies) if mask is None else int(mask.sum())

    def technology(self, tech_id: str, viewer: Viewer) -> Technology:
        """The technology ``tech_id`` if ``viewer`` may see it; the same error when it is absent or hidden."""
        tech = self.by_id.get(tech_id)
        mask = self.visible(viewer)
        if tech is None or (mask is not None and not mask[self.version.position_of(tech_id)]):
            raise NotFoundError(f"no technology with id {tech_id!r} in index version {self.name}")
        return tech

    def visible_groups(self, viewer: Viewer) -> list[VisibleGroup]:
        if self.groups is None:
            return []
        return visible_groups(self.groups, self.by_id, viewer, registry=self.version.registry)

    def manifest_for(self, viewer: Viewer) -> dict[str, Any]:
        """The manifest, with every count computed over what ``viewer`` may see.

        For non-admins the corpus hash and the vocabulary size are left out, counts cover the visible
        technologies only, whether or not the index holds confidential ones (so it cannot be told), and
        server file paths (corpus directory, model directories, caches) are left out
        (``service/redact.py``)."""
        manifest = self.version.manifest
        if viewer.is_admin:
            return manifest
        mask = self.visible(viewer)
        if mask is None:
            mask = np.ones(len(self.version.technologies), dtype=bool)
        n = int(mask.sum())
        out = {k: v for k, v in manifest.items() if k != "corpus_hash"}
        out["count"] = n
        out["counts"] = {**manifest.get("counts", {}), "technologies": n}
        if isinstance(manifest.get("retriever"), dict):
            retriever = {**manifest["retriever"], "count": n}
            if isinstance(retriever.get("bm25"), dict):
                retriever["bm25"] = {k: v for k, v in retriever["bm25"].items() if k != "terms"}
            dense = {}
            for name, entry in (retriever.get("dense") or {}).items():
                rows = self.version.retriever.dense_rows(name)
                entry = dict(entry)
                if rows is not None:
                    entry["rows"] = int(mask[np.asarray(rows, dtype=np.int64)].sum())
                dense[name] = entry
            retriever["dense"] = dense
            out["retriever"] = retriever
        if isinstance(manifest.get("groups"), dict) and self.groups is not None:
            groups = self.visible_groups(viewer)
            out["groups"] = {"count": len(groups), "convergence": sum(g.convergence for g in groups)}
        return without_server_paths(out)  # type: ignore[no-any-return]


class Engine:
    """The current snapshot, and the hot swap to a newly published index version."""

    def __init__(self, snapshot: Snapshot, store: IndexStore | None = None, reload_interval: float = 0.0) -> None:
        self._snapshot = snapshot
        self._swap_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self.store = store
        self.reload_interval = reload_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    # ------------------------------------------------------------------ reading
    @property
    def snapshot(self) -> Snapshot:
        with self._swap_lock:
            return self._snapshot

    @property
    def version(self) -> IndexVersion:
        return self.snapshot.version

    @property
    def encoders(self) -> Mapping[str, Encoder]:
        return self.snapshot.version.retriever.encoders

    # ------------------------------------------------------------------ swapping
    def swap(self, snapshot: Snapshot) -> None:
        with self._swap_lock:
            self._snapshot = snapshot

    def check_for_update(self) -> bool:
        """Load and serve the published version if it is not the one being served; ``True`` if swapped.

        A version that fails to load raises (the old one keeps serving)."""
        if self.store is None:
            return False
        with self._load_lock:
            name = self.store.current_name()
            if name is None or name == self.snapshot.name:
                return False
            try:  # loaded fully (and warmed up) before it is served
                version = self.store.load(dict(self.encoders))
                warm_up(version)
                snapshot = Snapshot.of(version)
            except MatcherError:
                raise
            except Exception as exc:  # a corrupt version: report it as a domain error, keep serving
                raise IndexMismatchError(f"{self.store.root}: cannot load index version {name!r} "
                                         f"({type(exc).__name__}: {exc})") from exc
            self.swap(snapshot)
            settle_heap()  # the new version's objects out of the collector's way, the old one's collected
        log.info("serving index version %s (%d technologies)", snapshot.name, len(version.technologies))
        return True

    def _poll(self) -> None:
        failed: str | None = None
        while not self._stop.wait(self.reload_interval):
            try:
                self.check_for_update()
                failed = self.last_error = None
            except Exception as exc:  # the poller must survive whatever a bad version throws
                message = f"{type(exc).__name__}: {exc}"
                if message != failed:  # log a failing version once, not every interval
                    log.error("could not load the published index version; still serving %s: %s",
                              self.snapshot.name, message)
                failed = self.last_error = message

    def start(self) -> None:
        """Start polling for new versions (no-op when ``reload_interval`` is 0 or already started)."""
        if self.store is None or self.reload_interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="index-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def load_engine(settings: ServiceSettings, encoders: Mapping[str, Encoder] | None = None) -> Engine:
    """The engine over ``settings.index``; ``encoders`` may supply already-loaded encoders by name."""
    if encoders is not None and settings.encoder is None:
        version = IndexStore(settings.index).load(encoders)
    else:
        version = open_index(settings.index, settings.encoder)
    # many small concurrent requests: one thread each, a bounded number of encodes at once (matcher/runtime.py)
    configure_serving(version.retriever.encoders.values())
    default_query_cache().set_encode_slots(encode_slots())
    warm_up(version)
    engine = Engine(Snapshot.of(version), IndexStore(settings.index), settings.reload_interval)
    settle_heap()  # the loaded index out of the garbage collector's way (full collections stalled requests)
    return engine
