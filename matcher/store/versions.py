"""An index on disk: a directory of immutable versions, each with a JSON manifest, and a CURRENT pointer.

```
INDEX_DIR/
  CURRENT                      name of the version being served (replaced atomically)
  versions/<version>/          manifest.json, vectors.faiss|vectors.npy, technologies.jsonl, ...
  embeddings.sqlite            embedding cache (default location)
  staging/<build key>/         a build's tokens and embeddings until its version is published (staging.py)
  activations.jsonl            every switch of CURRENT (matcher/store/activations.py)
  leases/<host>-<pid>-*.json   versions running services hold (matcher/store/leases.py)
```
A version is written aside (``versions/.staging-*``), renamed into place (:meth:`IndexStore.stage`), and
only then is CURRENT flipped with an atomic ``os.replace`` (:meth:`IndexStore.point_current`): an
interrupted build leaves the previous version serving. Builds check a staged version before the flip
(``matcher/store/lifecycle.py``).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.encoders.base import Encoder
from matcher.errors import IndexMismatchError, InputFileError, NotFoundError, ValidationError
from matcher.files import atomic_write_text, fsync_dir, iter_jsonl, read_jsonl
from matcher.files import write_jsonl as write_jsonl  # where matcher.build finds it
from matcher.institutions import InstitutionRegistry
from matcher.records import Company, DemandProfile, Institution, Technology

if TYPE_CHECKING:
    from matcher.retrieval.retriever import HybridRetriever

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
RECORDS = "technologies.jsonl"


def read_institutions(version_dir: Path) -> list[Institution]:
    """Declared institutions of a version (``institutions.jsonl``; empty when it has none)."""
    path = version_dir / "institutions.jsonl"
    return [Institution.from_dict(row) for row in read_jsonl(path)] if path.is_file() else []


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while millions of acyclic objects are made (records, their tuples,
    the id map): its passes over them were a quarter of reading 1M records; back on (if it was) after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def file_sha256(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes (hashed at GB/s, in chunks)."""
    with open(path, "rb") as fh:
        return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()


def write_records(version_dir: Path, technologies: Iterable[Technology]) -> dict[str, Any]:
    """Write a version's technologies (:data:`RECORDS`); the manifest's ``records`` entry: file, bytes, SHA-256."""
    path = version_dir / RECORDS
    write_jsonl(path, [t.to_dict() for t in technologies])
    return {"file": RECORDS, "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def read_records(version_dir: Path, manifest: Mapping[str, Any]) -> list[Technology]:
    """A version's technologies. When the manifest records the file's SHA-256 (versions built since it
    does), the file must have exactly those bytes — else :class:`IndexMismatchError` (corrupt, or edited after
    publishing) — and its rows, validated when built, are neither validated nor re-hashed again
    (:meth:`Technology.from_stored`); without it every row is validated and its content hash checked
    (a bad row: :class:`InputFileError` naming the line)."""
    path = version_dir / RECORDS
    expected = (manifest.get("records") or {}).get("sha256")
    if expected is None:
        return _technologies(path, Technology.from_dict)
    found = file_sha256(path)
    if found != expected:
        raise IndexMismatchError(
            f"{path}: content {found} is not the {expected} its manifest records; the file was changed "
            f"after the version was published (corrupt or edited): rebuild the index"
        )
    return _technologies(path, Technology.from_stored)


def _technologies(path: Path, make: Callable[[dict[str, Any]], Technology]) -> list[Technology]:
    out = []
    for number, row in iter_jsonl(path, fast=True):  # written by write_records: no integer beyond 64 bits
        try:
            out.append(make(row))
        except ValidationError as exc:
            raise InputFileError(path, f"line {number}: {exc}") from None
        except (TypeError, AttributeError) as exc:
            raise InputFileError(path, f"line {number} is not a technology ({exc})") from None
    return out


def new_version_name() -> str:
    """``vYYYYmmddTHHMMSS.ffffff-xxxxxx``: names sort in creation order (pruning relies on it)."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    return f"v{stamp}.{int(now % 1 * 1e6):06d}-{os.urandom(3).hex()}"


@dataclass
class IndexVersion:
    """One loaded version: manifest, technologies (by position) and the vector index."""

    path: Path
    manifest: dict[str, Any]
    technologies: list[Technology]
    retriever: HybridRetriever

    @property
    def name(self) -> str:
        return str(self.manifest["version"])

    def position_of(self, tech_id: str) -> int:
        try:
            return self._positions[tech_id]
        except KeyError:
            raise NotFoundError(f"no technology with id {tech_id!r} in index version {self.name}") from None

    def __post_init__(self) -> None:
        self._positions = {t.id: i for i, t in enumerate(self.technologies)}

    @cached_property
    def companies(self) -> list[Company]:
        """Declared companies of the corpus (``companies.jsonl``; empty when the version has none)."""
        path = self.path / "companies.jsonl"
        return [Company.from_dict(row) for row in read_jsonl(path)] if path.is_file() else []

    @cached_property
    def institutions(self) -> list[Institution]:
        """Declared institutions of the corpus (``institutions.jsonl``; empty when the version has none)."""
        return read_institutions(self.path)

    @cached_property
    def registry(self) -> InstitutionRegistry:
        """Every spelling of every institution of this version → its canonical name."""
        return InstitutionRegistry(self.institutions, self.technologies)

    @cached_property
    def offerable(self) -> np.ndarray:
        """Mask by position of what the consortium can offer: records owned by a member institution
        (company-only records form licensee portfolios, never offers)."""
        registry = self.registry
        return np.fromiter(
            (any(registry.is_member(i) for i in t.institutions) for t in self.technologies),
            dtype=bool, count=len(self.technologies),
        )

    @cached_property
    def active(self) -> np.ndarray:
        """Mask by position of live records (not lapsed, refused, withdrawn or abandoned)."""
        return np.fromiter((t.active for t in self.technologies), dtype=bool, count=len(self.technologies))

    @cached_property
    def demands(self) -> list[DemandProfile]:
        """Saved demand profiles of the corpus (``demands.jsonl``)."""
        path = self.path / "demands.jsonl"
        return [DemandProfile.from_dict(row) for row in read_jsonl(path)] if path.is_file() else []


class IndexStore:
    """Reads and publishes versions under one index directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current_path(self) -> Path:
        name = self.current_name()
        if name is None:
            if not self.root.exists():
                raise NotFoundError(f"{self.root}: no such index directory (build one with 'matcher build')")
            raise NotFoundError(f"{self.root}: no published index version (no CURRENT file)")
        path = self.versions_dir / name
        if not (path / MANIFEST).is_file():
            raise NotFoundError(f"{self.root}: CURRENT names version {name!r} but {path / MANIFEST} is missing")
        return path

    def read_manifest(self, path: Path | None = None) -> dict[str, Any]:
        path = path or self.current_path()
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputFileError(path / MANIFEST, f"not valid JSON ({exc.msg})") from None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"{path / MANIFEST}: index format version {manifest.get('format_version')!r}, "
                f"this program reads version {FORMAT_VERSION}; rebuild the index"
            )
        return manifest

    def publish(self, write: Any, manifest: dict[str, Any], *, keep: int = 3) -> Path:
        """Create a version: ``write(staging_dir)`` fills it, then it is renamed and made CURRENT.

        (No check before the switch: ``matcher.store.lifecycle`` stages, checks and activates.)"""
        final = self.stage(write, manifest)
        self.point_current(final.name)
        self.prune(keep)
        return final

    def stage(self, write: Any, manifest: dict[str, Any]) -> Path:
        """Write a complete version (files and manifest) under ``versions/`` without making it CURRENT."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        name = manifest.get("version") or new_version_name()
        existing = self.versions()
        while existing and name <= existing[-1]:  # a clock step back must not break the order
            time.sleep(0.001)
            name = new_version_name()
        manifest = {**manifest, "version": name, "format_version": FORMAT_VERSION}
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.versions_dir))
        try:
            extra = write(staging) or {}
            manifest.update(extra)
            (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            for child in staging.rglob("*"):
                if child.is_file():
                    with open(child, "rb") as fh:
                        os.fsync(fh.fileno())
            final = self.versions_dir / name
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fsync_dir(self.versions_dir)
        return final

    def point_current(self, name: str) -> None:
        """Make ``name`` the CURRENT version: a temporary file, then an atomic ``os.replace``."""
        atomic_write_text(self.root / CURRENT, name + "\n", fsync=True)

    def versions(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def prune(self, keep: int, *, protect: Collection[str] = ()) -> list[str]:
        """Remove all but the newest ``keep`` versions (never the current one nor those in ``protect``)
        and stale staging dirs."""
        current = self.current_name()
        removed = []
        for name in self.versions()[:-keep] if keep > 0 else []:
            if name != current and name not in protect:
                shutil.rmtree(self.versions_dir / name, ignore_errors=True)
                removed.append(name)
        for stale in self.versions_dir.glob(".staging-*"):
            if time.time() - stale.stat().st_mtime > 3600:
                shutil.rmtree(stale, ignore_errors=True)
        return removed

    def registry(self, path: Path | None = None) -> InstitutionRegistry:
        """The institutions of the current version (or ``path``), read without loading any model."""
        path = path or self.current_path()
        return InstitutionRegistry(read_institutions(path), read_records(path, self.read_manifest(path)))

    def load(self, encoders: Mapping[str, Encoder] | None = None, *, path: Path | None = None) -> IndexVersion:
        """Load the current version (or ``path``) with ``encoders`` (by name; those the manifest names
        and ``encoders`` lacks are loaded). An encoder whose identity differs from the manifest's is refused."""
        from matcher.retrieval.retriever import HybridRetriever

        path = path or self.current_path()
        manifest = self.read_manifest(path)
        built = manifest.get("encoders", {})
        given = {name: enc for name, enc in (encoders or {}).items() if name in built}  # a pool may hold more
        check_encoders(path, built, given)
        missing = [name for name in built if name not in given]
        if missing:
            from matcher.encoders import load_encoder

            for name in missing:
                given[name] = load_encoder(built[name].get("model_spec") or name)
            check_encoders(path, built, given)
        with paused_gc():
            technologies = read_records(path, manifest)
            retriever = HybridRetriever.load(path, manifest["retriever"], given)
            if retriever.document_count != len(technologies) or len(technologies) != manifest["count"]:
                raise IndexMismatchError(
                    f"{path}: manifest count {manifest['count']}, {len(technologies)} records, "
                    f"{retriever.document_count} indexed; the version is corrupt, rebuild it"
                )
            return IndexVersion(path=path, manifest=manifest, technologies=technologies, retriever=retriever)


def check_encoders(path: Path, built: Mapping[str, Any], given: Mapping[str, Encoder]) -> None:
    """Refuse encoders whose identity differs from the ones the index was built with."""
    for name, encoder in given.items():
        expected = built.get(name, {}).get("key")
        if expected != encoder.identity.key:
            was = ", ".join(f"{v['key']!r}" for v in built.values()) or "no encoder (lexical only)"
            raise IndexMismatchError(
                f"{path}: index was built with encoder {was} but the configured encoder is "
                f"{encoder.identity.key!r}; rebuild the index with this encoder, or leave the encoder "
                f"unset to use the index's own"
            )
