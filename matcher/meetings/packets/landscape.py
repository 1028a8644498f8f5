"""The landscape map: a 2-D projection of an index version's document vectors, stable per version.

The projection is PCA fitted on the version's public rows (no confidential record shapes it, so it is the
same for every viewer): the mean and the two leading eigenvectors of the covariance of the primary
(multilingual) encoder's document vectors (``HybridRetriever.document_vectors``), each axis signed so its
largest component is positive — deterministic for one version. It is cached as
``<cache_dir>/landscape-<version>.json`` (mean, axes, bounds: a few KB) and read back by later runs.

:class:`Landscape` draws, for one viewer, the density of the technologies it may see (a grid of cells, so a
page stays small however large the index), the meeting's technologies as labelled marks and the demand —
encoded with the same encoder and projected — as a star (:class:`MapView`, rendered by ``map.svg``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matcher.files import atomic_write_json
from matcher.store.versions import IndexVersion

FORMAT = 1
WIDTH, HEIGHT = 400.0, 240.0
MARGIN = 10.0
GRID_X, GRID_Y = 50, 30
#: rows per block when fitting and projecting (bounded memory on large indexes)
CHUNK = 8192


@dataclass(frozen=True)
class Projection:
    """PCA of one version's vectors: ``mean`` (d,), ``axes`` (2, d), ``bounds`` (x0, y0, x1, y1)."""

    version: str
    encoder: str
    mean: np.ndarray
    axes: np.ndarray
    bounds: tuple[float, float, float, float]

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 2) map coordinates of ``vectors`` (n, d), a block of rows at a time (no float64 copy of all)."""
        vectors = np.asarray(vectors)
        out = np.empty((len(vectors), 2))
        for start in range(0, len(vectors), CHUNK):
            block = vectors[start:start + CHUNK].astype(np.float64)
            out[start:start + CHUNK] = (block - self.mean) @ self.axes.T
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": self.version, "encoder": self.encoder, "dimension": int(self.mean.size),
                "mean": self.mean.tolist(), "axes": self.axes.tolist(), "bounds": list(self.bounds)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Projection:
        return cls(version=str(data["version"]), encoder=str(data["encoder"]),
                   mean=np.asarray(data["mean"], dtype=np.float64), axes=np.asarray(data["axes"], dtype=np.float64),
                   bounds=tuple(float(b) for b in data["bounds"]))  # type: ignore[arg-type]


def _vectors(version: IndexVersion) -> tuple[str, np.ndarray] | None:
    retriever = version.retriever
    name = retriever.primary_encoder
    vectors = retriever.document_vectors()
    if not name or vectors is None or len(vectors) != len(version.technologies):
        return None
    return name, np.asarray(vectors)


def fit_projection(version: IndexVersion) -> Projection | None:
    """The version's projection (see the module docstring); ``None`` when the index keeps no flat vectors."""
    found = _vectors(version)
    if found is None:
        return None
    encoder, vectors = found
    public = np.fromiter((not t.confidential for t in version.technologies), dtype=bool, count=len(vectors))
    rows = np.flatnonzero(public) if public.any() else np.arange(len(vectors))
    dimension = vectors.shape[1]
    total = np.zeros(dimension)
    scatter = np.zeros((dimension, dimension))
    for start in range(0, len(rows), CHUNK):  # the covariance a block at a time, in float64
        block = vectors[rows[start:start + CHUNK]].astype(np.float64)
        total += block.sum(axis=0)
        scatter += block.T @ block
    mean = total / len(rows)
    values, vecs = np.linalg.eigh(scatter - len(rows) * np.outer(mean, mean))
    axes = vecs[:, np.argsort(-values, kind="stable")[:2]].T.copy()
    if axes.shape[0] < 2:  # a one-dimensional space: a flat second axis
        axes = np.vstack([axes, np.zeros_like(axes[:1])])
    for axis in axes:
        if axis[int(np.argmax(np.abs(axis)))] < 0:
            axis *= -1.0
    points = Projection(version.name, encoder, mean, axes, (0.0, 0.0, 1.0, 1.0)).project(vectors)[rows]
    lo, hi = points.min(axis=0), points.max(axis=0)
    return Projection(version.name, encoder, mean, axes, (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])))


def projection_for(version: IndexVersion, cache_dir: Path) -> tuple[Projection | None, Path | None]:
    """The version's projection, read from ``cache_dir`` or fitted and written there (its path returned)."""
    path = cache_dir / f"landscape-{version.name}.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") == FORMAT and data.get("version") == version.name:
                return Projection.from_dict(data), path
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache is fitted again
    projection = fit_projection(version)
    if projection is None:
        return None, None
    atomic_write_json(path, projection.to_dict())
    return projection, path


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    opacity: float


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    label: str
    title: str


@dataclass(frozen=True)
class MapView:
    """What ``map.svg`` draws: density cells, the meeting's technologies, the demand."""

    width: float
    height: float
    cell_width: float
    cell_height: float
    cells: tuple[Cell, ...]
    marks: tuple[Mark, ...]
    demand: tuple[float, float] | None
    caption: str

    @property
    def star(self) -> str:
        """The demand's star as SVG polygon points ('' without a demand)."""
        if self.demand is None:
            return ""
        cx, cy = self.demand
        points = []
        for k in range(10):
            radius = 8.0 if k % 2 == 0 else 3.4
            angle = math.pi * k / 5 - math.pi / 2
            points.append(f"{cx + radius * math.cos(angle):.1f},{cy + radius * math.sin(angle):.1f}")
        return " ".join(points)


class Landscape:
    """The map of one version as one viewer sees it (``visible``: its mask, ``None`` = everything)."""

    def __init__(self, version: IndexVersion, projection: Projection, visible: np.ndarray | None = None) -> None:
        self.version = version
        self.projection = projection
        found = _vectors(version)
        self.points = projection.project(found[1]) if found is not None else np.zeros((0, 2))
        n = len(version.technologies)
        self.visible = np.ones(n, dtype=bool) if visible is None else np.asarray(visible, dtype=bool)
        self.cells = self._density()

    def _xy(self, point: Sequence[float]) -> tuple[float, float]:
        x0, y0, x1, y1 = self.projection.bounds
        sx = (WIDTH - 2 * MARGIN) / ((x1 - x0) or 1.0)
        sy = (HEIGHT - 2 * MARGIN) / ((y1 - y0) or 1.0)
        x = MARGIN + (float(point[0]) - x0) * sx
        y = HEIGHT - MARGIN - (float(point[1]) - y0) * sy  # up is up
        return round(min(max(x, 2.0), WIDTH - 2.0), 1), round(min(max(y, 2.0), HEIGHT - 2.0), 1)

    def _density(self) -> tuple[Cell, ...]:
        shown = self.points[self.visible[: len(self.points)]] if len(self.points) else self.points
        if not len(shown):
            return ()
        counts: dict[tuple[int, int], int] = {}
        cw, ch = (WIDTH - 2 * MARGIN) / GRID_X, (HEIGHT - 2 * MARGIN) / GRID_Y
        for point in shown:
            x, y = self._xy(point)
            key = (min(int((x - MARGIN) // cw), GRID_X - 1), min(int((y - MARGIN) // ch), GRID_Y - 1))
            counts[key] = counts.get(key, 0) + 1
        top = math.log1p(max(counts.values()))
        return tuple(Cell(round(MARGIN + i * cw, 1), round(MARGIN + j * ch, 1),
                          round(0.15 + 0.6 * math.log1p(c) / top, 3))
                     for (i, j), c in sorted(counts.items()))

    def view(self, positions: Sequence[int], demand_vector: np.ndarray | None) -> MapView:
        """The map of one meeting: technologies at ``positions`` (those the viewer may not see are left out)
        and the demand's vector (``None``: no star)."""
        marks = []
        for pos in positions:
            if pos < len(self.points) and self.visible[pos]:
                tech = self.version.technologies[pos]
                x, y = self._xy(self.points[pos])
                marks.append(Mark(x, y, tech.id, tech.title))
        demand = None
        if demand_vector is not None:
            demand = self._xy(self.projection.project(np.asarray(demand_vector)[None, :])[0])
        cw, ch = (WIDTH - 2 * MARGIN) / GRID_X, (HEIGHT - 2 * MARGIN) / GRID_Y
        caption = (f"index {self.projection.version}: {int(self.visible[: len(self.points)].sum())} technologies "
                   f"(PCA of {self.projection.encoder} vectors); ★ the demand, ● the meeting's technologies")
        return MapView(WIDTH, HEIGHT, round(cw, 2), round(ch, 2), self.cells, tuple(marks), demand, caption)
