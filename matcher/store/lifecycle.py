"""Publishing an index version is **stage → check → activate**; rollback, listing and retention around it.

* *stage*: the version is written complete (files and manifest) under ``versions/`` but not made active
  (:meth:`IndexStore.stage`).
* *check* (:func:`check_version`): its manifest reads, its vector and BM25 index files hold as many
  rows as the manifest says, it loads (records, counts), record ids are unique, and one query runs
  through its retriever. A version that fails is never activated.
* *activate* (:func:`activate`): the check, then CURRENT is replaced atomically (temporary file +
  ``os.replace``) and the switch is appended to ``activations.jsonl`` (:mod:`matcher.store.activations`).
  :func:`rollback` activates the version active before the current one (or a chosen one) the same way.
* *retention* (:func:`prune`): all but the newest ``keep`` versions go, except the active one, the
  rollback target and every version a running service holds a lease on (:mod:`matcher.store.leases`).

Activation, rollback and pruning of one index directory take an exclusive lock (``.lifecycle.lock``),
so a prune never removes a version while another process activates it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder
from matcher.errors import MatcherError, NotFoundError, VersionCheckError
from matcher.store.activations import append_activation, previous_active
from matcher.store.leases import leased_versions, remove_expired
from matcher.store.versions import IndexStore, IndexVersion

try:  # POSIX; elsewhere the lock is a no-op
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

LOCK = ".lifecycle.lock"


@dataclass(frozen=True)
class Activation:
    """What an activation or rollback did: the active version now, the one before, whether it changed."""

    active: str
    previous: str | None
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"active": self.active, "previous": self.previous, "changed": self.changed}


@dataclass(frozen=True)
class VersionSummary:
    """One version of an index: its name, whether it is active, when it was built and its record count
    (``None`` where the manifest cannot be read)."""

    version: str
    active: bool
    created: str | None
    count: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "active": self.active, "created": self.created, "count": self.count}


@dataclass(frozen=True)
class CheckReport:
    """A version that passed its check: what was verified."""

    version: str
    count: int
    checks: tuple[str, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "count": self.count, "checks": list(self.checks),
                "seconds": round(self.seconds, 3)}


@contextmanager
def locked(store: IndexStore) -> Iterator[None]:
    """Hold the index directory's lifecycle lock (blocking) for the block (the directory must exist)."""
    with open(store.root / LOCK, "a+b") as fh:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def require_index(store: IndexStore) -> IndexStore:
    """``store`` if its directory exists; otherwise :class:`NotFoundError` naming it."""
    if not store.root.is_dir():
        raise NotFoundError(f"{store.root}: no such index directory (build one with 'matcher build')")
    return store


def require_version(store: IndexStore, name: object) -> Path:
    """The directory of version ``name``; an unknown one is refused, listing the known versions."""
    known = store.versions()
    if not isinstance(name, str) or name not in known:
        listing = ", ".join(known) or "(none)"
        raise NotFoundError(f"{store.root}: unknown index version {name!r}; known versions: {listing}")
    return store.versions_dir / name


def check_version(store: IndexStore, name: str, encoders: Mapping[str, Encoder] | None = None) -> CheckReport:
    """Load version ``name`` and verify it can serve: manifest, counts, ids, vector index sizes, one query.

    ``encoders`` (by name) are used where the manifest names them; the others are loaded. Raises
    :class:`VersionCheckError` naming the version and what failed."""
    started = time.perf_counter()
    path = require_version(store, name)
    done: list[str] = []

    def fail(step: str, detail: str) -> VersionCheckError:
        active = store.current_name()
        still = f"; the active version stays {active!r}" if active and active != name else ""
        return VersionCheckError(f"{store.root}: index version {name!r} failed its check ({step}): {detail}; "
                                 f"it was not activated{still}")

    def step(label: str, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except MatcherError as exc:
            raise fail(label, str(exc)) from exc
        except Exception as exc:  # a corrupt file surfaces as whatever its reader throws
            raise fail(label, f"{type(exc).__name__}: {exc}") from exc
        done.append(label)
        return result

    manifest = step("manifest", lambda: store.read_manifest(path))
    if manifest.get("version") != name:
        raise fail("manifest", f"it names version {manifest.get('version')!r}")
    step("vectors", lambda: _check_vectors(path, manifest))
    version: IndexVersion = step("load", lambda: store.load(encoders, path=path))
    step("ids", lambda: _check_ids(version))
    step("query", lambda: _check_query(version))
    return CheckReport(version=name, count=len(version.technologies), checks=tuple(done),
                       seconds=time.perf_counter() - started)


def _check_ids(version: IndexVersion) -> None:
    ids = [t.id for t in version.technologies]
    if not ids:
        raise VersionCheckError("the version holds no technologies")
    if any(not i for i in ids):
        raise VersionCheckError(f"a technology has an empty id (position {ids.index('')})")
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise VersionCheckError(f"technology id {repeated[0]!r} appears more than once")
    declared = version.manifest.get("counts", {}).get("technologies", version.manifest.get("count"))
    if declared != len(ids):
        raise VersionCheckError(f"the manifest counts {declared} technologies, the records hold {len(ids)}")


def _check_vectors(path: Path, manifest: Mapping[str, Any]) -> None:
    """The files on disk: each vector index holds one vector per row it maps, rows within the records,
    sizes as the manifest says; the BM25 index one row per record."""
    from matcher.index.factory import index_class
    from matcher.retrieval.bm25 import BM25

    n = int(manifest["count"])
    entry = manifest.get("retriever") or {}
    for name, sub_entry in (entry.get("dense") or {}).items():
        sub = path / sub_entry["dir"]
        try:
            rows = np.load(sub / "rows.npy", allow_pickle=False)
            size = len(index_class(sub_entry["backend"]).load(sub, sub_entry))
        except Exception as exc:  # whatever numpy or faiss throws on a damaged file
            raise VersionCheckError(f"vector index {name!r} in {sub} cannot be read "
                                    f"({type(exc).__name__}: {exc})") from exc
        if not size == len(rows) == sub_entry.get("rows", len(rows)):
            raise VersionCheckError(f"vector index {name!r} holds {size} vectors for {len(rows)} rows "
                                    f"(the manifest says {sub_entry.get('rows')})")
        if len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= n):
            raise VersionCheckError(f"vector index {name!r} names rows outside 0..{n - 1}")
    if "bm25" in entry:
        docs = len(BM25.load(path, entry["bm25"]))
        if docs != n:
            raise VersionCheckError(f"the BM25 index holds {docs} documents for {n} technologies")


def _check_query(version: IndexVersion) -> None:
    """One query (the first record's title) through the loaded retriever finds a record."""
    first = version.technologies[0]
    hits = version.retriever.search((first.title or first.text)[:200], 1)
    if not hits or not 0 <= hits[0].position < len(version.technologies):
        raise VersionCheckError(f"a query for the title of {first.id!r} found nothing")


def rollback_target(store: IndexStore) -> str | None:
    """The version active before the current one, from the activation log (``None`` when it does not say)."""
    return previous_active(store.root, store.current_name())


def _switch(store: IndexStore, name: str, *, by: str, action: str,
            encoders: Mapping[str, Encoder] | None) -> Activation:
    """Check ``name`` and make it active (caller holds the lock)."""
    require_version(store, name)
    current = store.current_name()
    if name == current:
        return Activation(active=name, previous=current, changed=False)
    check_version(store, name, encoders)
    store.point_current(name)
    append_activation(store.root, by=by, action=action, previous=current, to=name)
    return Activation(active=name, previous=current, changed=True)


def activate(store: IndexStore, name: str, *, by: str, encoders: Mapping[str, Encoder] | None = None,
             action: str = "activate") -> Activation:
    """Check version ``name`` and make it active; what changed (:class:`Activation`).

    An unknown version is :class:`NotFoundError` (listing the known), one that fails its check
    :class:`VersionCheckError`; either way the active version is unchanged. Activating the active
    version changes nothing and is not logged."""
    with locked(require_index(store)):
        return _switch(store, name, by=by, action=action, encoders=encoders)


def rollback(store: IndexStore, to: str | None = None, *, by: str,
             encoders: Mapping[str, Encoder] | None = None) -> Activation:
    """Activate ``to`` or, by default, the version active before the current one (from the log).

    Like ``cd -``, a second rollback returns to the version the first one left."""
    with locked(require_index(store)):
        target = to if to is not None else rollback_target(store)
        if target is None:
            known = ", ".join(store.versions()) or "(none)"
            raise NotFoundError(f"{store.root}: the activation log names no version active before "
                                f"{store.current_name()!r}; give one (--to VERSION); known versions: {known}")
        return _switch(store, target, by=by, action="rollback", encoders=encoders)


def protected_versions(store: IndexStore) -> dict[str, str]:
    """Versions retention must keep, with why: the active one, the rollback target, leased ones."""
    protected: dict[str, str] = {}
    for name in leased_versions(store.root):
        protected[name] = "leased"
    target = rollback_target(store)
    if target is not None:
        protected[target] = "rollback target"
    current = store.current_name()
    if current is not None:
        protected[current] = "active"
    return protected


def prune(store: IndexStore, keep: int) -> list[str]:
    """Remove all but the newest ``keep`` versions, never a protected one (:func:`protected_versions`),
    and expired lease files; returns the removed versions."""
    with locked(require_index(store)):
        removed = store.prune(keep, protect=protected_versions(store))
        remove_expired(store.root)
    return removed


def publish(store: IndexStore, write: Any, manifest: dict[str, Any], *, keep: int, activate: bool = True,
            encoders: Mapping[str, Encoder] | None = None, by: str = "build") -> tuple[Path, CheckReport, bool]:
    """Stage a version (``write(dir)`` fills it), check it, activate it unless ``activate`` is false, prune.

    Returns (its directory, the check report, whether it is now active). A version that fails its check
    stays staged (for inspection; retention removes it in time) and :class:`VersionCheckError` is raised."""
    path = store.stage(write, manifest)
    report = check_version(store, path.name, encoders)
    if activate:
        with locked(store):
            # checked just now: switch without loading it a second time (if a concurrent prune left it)
            require_version(store, path.name)
            current = store.current_name()
            store.point_current(path.name)
            append_activation(store.root, by=by, action="build", previous=current, to=path.name)
    prune(store, keep)
    return path, report, activate


def list_versions(store: IndexStore) -> list[VersionSummary]:
    """Every version, oldest first (created and count ``None`` where the manifest cannot be read)."""
    current = store.current_name()
    rows = []
    for name in store.versions():
        try:
            manifest = store.read_manifest(store.versions_dir / name)
        except (MatcherError, OSError):
            manifest = {}
        rows.append(VersionSummary(version=name, active=name == current, created=manifest.get("created_at"),
                                   count=manifest.get("count")))
    return rows
