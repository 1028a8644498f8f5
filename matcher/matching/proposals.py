"""From a demand's score table to what an officer proposes: one institution's own set, convergence
bundles across institutions, and the gaps.

Rules (issue 10, "bundles without padding"):

* A technology **covers** a requirement when its calibrated relevance reaches the floor. A requirement no
  candidate covers is a **gap**: listed, never filled with a weak match.
* Every member of a proposal covers at least one requirement, and is the proposal's best member for it
  (``bundles.py``: no passengers, no member added only to reach two institutions).
* When one institution's own technologies cover every coverable requirement, the answer says so and shows
  that institution's set (``kind = "single_institution"``). A cross-institution bundle
  (``kind = "convergence"``) is proposed then only when it covers as well or better: every coverable
  requirement, with a mean best relevance at least the single institution's.
* Selection among many possible sets uses the relative coverage of ``bundles.py`` (a facet's best candidate
  keeps its relevance, others decay with their score gap), which tells a facet's real answer from a near
  miss (``bench/bundle_recovery.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from matcher.institutions import InstitutionRegistry
from matcher.matching.bundles import BundleConfig, select_bundles
from matcher.records import Technology

#: how fast selection coverage falls with a candidate's fused-score gap to the best candidate of a facet
COVER_GAP_SCALE = 0.5
#: largest own set shown for one institution
MAX_SINGLE_SET = 8
VERDICTS = ("single_institution", "convergence", "partial", "none")


@dataclass(frozen=True)
class RequirementCover:
    """How a proposal covers one requirement: the members reaching the floor for it (best first), the best
    of them (``None``: a gap of the proposal) and the best relevance any member has for it."""

    requirement: int
    text: str
    members: tuple[str, ...]
    member: str | None
    relevance: float

    def to_dict(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "text": self.text, "members": list(self.members),
                "member": self.member, "relevance": self.relevance}


@dataclass(frozen=True)
class Proposal:
    """One proposed set: one institution's own (``kind = "single_institution"``) or a convergence bundle."""

    kind: str
    members: tuple[str, ...]
    titles: tuple[str, ...]
    technologies: tuple[dict[str, Any], ...]  # Technology.summary() of each member
    institutions: tuple[str, ...]
    relevance: float
    covered: int
    score: float
    coverage: tuple[RequirementCover, ...]
    gaps: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "members": list(self.members), "titles": list(self.titles),
                "technologies": [dict(t) for t in self.technologies], "institutions": list(self.institutions),
                "relevance": self.relevance, "covered": self.covered, "score": self.score,
                "coverage": [c.to_dict() for c in self.coverage], "gaps": list(self.gaps)}


@dataclass(frozen=True)
class SingleInstitution:
    """The institution whose own technologies cover the demand, with its set."""

    institution: str
    members: tuple[str, ...]
    titles: tuple[str, ...]
    relevance: float

    def to_dict(self) -> dict[str, Any]:
        return {"institution": self.institution, "members": list(self.members), "titles": list(self.titles),
                "relevance": self.relevance}


@dataclass(frozen=True)
class BundlesResult:
    """The bundles answer for one demand: ``verdict`` is one of :data:`VERDICTS`; ``gaps`` are the
    requirements (by index) no candidate covers."""

    requirements: tuple[str, ...]
    gaps: tuple[int, ...]
    relevance_floor: float
    single_institution: SingleInstitution | None
    bundles: tuple[Proposal, ...]
    verdict: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"requirements": list(self.requirements), "gaps": list(self.gaps),
                "relevance_floor": self.relevance_floor,
                "single_institution": None if self.single_institution is None else self.single_institution.to_dict(),
                "bundles": [b.to_dict() for b in self.bundles], "verdict": self.verdict, "message": self.message}


class _Table(Protocol):
    requirements: list[str]
    positions: list[int]
    fused: np.ndarray
    relevance: np.ndarray


def selection_coverage(fused: np.ndarray, relevance: np.ndarray, floor: float) -> np.ndarray:
    """(candidates × requirements) coverage used to choose sets: a facet's best candidate gets the facet's
    best relevance, the others that times ``exp(-gap / COVER_GAP_SCALE)``; 0 below the floor."""
    if fused.size == 0:
        return np.zeros(fused.shape)
    best_rel = relevance.max(axis=0, keepdims=True)
    best = fused.max(axis=0, keepdims=True)
    out = best_rel * np.exp(-(best - fused) / COVER_GAP_SCALE)
    out[relevance < floor] = 0.0
    return np.clip(out, 0.0, 1.0)


def owners_of(tech: Technology, registry: InstitutionRegistry) -> tuple[str, ...]:
    """The member institutions owning a technology, by canonical name."""
    names = [registry.canonical(i) or i for i in tech.institutions if registry.is_member(i)]
    return tuple(sorted(set(names))) or tuple(tech.institutions[:1])


def _shortlist(cover: np.ndarray, limit: int) -> list[int]:
    """The strongest candidates per requirement and overall (bounds the search)."""
    keep: set[int] = set()
    n_req = max(1, cover.shape[1])
    per_req = max(2, limit // n_req)
    for j in range(cover.shape[1]):
        col = cover[:, j]
        keep.update(i for i in np.argsort(-col, kind="stable")[:per_req].tolist() if col[i] > 0)
    rest = [i for i in np.argsort(-cover.sum(axis=1), kind="stable").tolist() if cover[i].sum() > 0]
    for i in rest:
        if len(keep) >= limit:
            break
        keep.add(i)
    return sorted(keep)


class _Describer:
    """Turns member indices (into the candidate table) into the answer's bundle rows."""

    def __init__(self, table: _Table, techs: Sequence[Technology], owners: Sequence[tuple[str, ...]],
                 floor: float) -> None:
        self.table, self.techs, self.owners, self.floor = table, techs, owners, floor
        self.coverable = table.relevance.max(axis=0) >= floor if len(techs) else np.zeros(0, dtype=bool)

    def quality(self, members: Sequence[int]) -> tuple[int, float]:
        """(requirements covered, mean best relevance over the coverable requirements)."""
        rel = self.table.relevance[list(members)].max(axis=0)
        covered = int(((rel >= self.floor) & self.coverable).sum())
        n = int(self.coverable.sum())
        return covered, float(rel[self.coverable].mean()) if n else 0.0

    def row(self, members: Sequence[int], kind: str, score: float) -> Proposal:
        rel = self.table.relevance
        order = sorted(members, key=lambda m: (-float(rel[m].max()), m))
        coverage = []
        for j, text in enumerate(self.table.requirements):
            covering = sorted((m for m in order if rel[m, j] >= self.floor), key=lambda m: (-rel[m, j], m))
            best = max(order, key=lambda m: (rel[m, j], -m))
            coverage.append(RequirementCover(
                requirement=j, text=text, members=tuple(self.techs[m].id for m in covering),
                member=self.techs[covering[0]].id if covering else None, relevance=round(float(rel[best, j]), 3)))
        covered, quality = self.quality(order)
        return Proposal(
            kind=kind,
            members=tuple(self.techs[m].id for m in order),
            titles=tuple(self.techs[m].title for m in order),
            technologies=tuple(self.techs[m].summary() for m in order),
            institutions=tuple(sorted({o for m in order for o in self.owners[m]})),
            relevance=round(quality, 3),
            covered=covered,
            score=round(score, 4),
            coverage=tuple(coverage),
            gaps=tuple(c.requirement for c in coverage if not c.members),
        )


def _single(describer: _Describer, cover: np.ndarray, shortlist: list[int]) -> tuple[str, list[int], float] | None:
    """The institution whose own candidates cover every coverable requirement with the best quality."""
    n_cov = int(describer.coverable.sum())
    owners = describer.owners
    best: tuple[tuple[float, int, str], str, list[int], float] | None = None
    for name in sorted({o for i in shortlist for o in owners[i]}):
        rows = [i for i in shortlist if name in owners[i]]
        if describer.quality(rows)[0] < n_cov:
            continue
        cfg = BundleConfig(min_size=1, max_size=max(1, min(MAX_SINGLE_SET, n_cov, len(rows))), min_institutions=1,
                           top_n=1)
        found = select_bundles(cover[rows], [(name,)] * len(rows), config=cfg)
        if not found:
            continue
        members = [rows[m] for m in found[0].members]
        covered, quality = describer.quality(members)
        if covered < n_cov:
            continue
        key = (-quality, len(members), name)
        if best is None or key < best[0]:
            best = (key, name, members, found[0].score)
    return None if best is None else (best[1], best[2], best[3])


def propose(table: _Table, techs: Sequence[Technology], registry: InstitutionRegistry,
            similarity: np.ndarray | None = None, *, top_n: int = 5, candidates: int = 20,
            floor: float = 0.3) -> BundlesResult:
    """The bundles answer for one demand (see the module docstring)."""
    reqs = table.requirements
    owners = [owners_of(t, registry) for t in techs]
    describer = _Describer(table, techs, owners, floor)
    gaps = tuple(j for j in range(len(reqs)) if not (len(techs) and describer.coverable[j]))
    if len(gaps) == len(reqs):
        return BundlesResult(
            requirements=tuple(reqs), gaps=gaps, relevance_floor=floor, single_institution=None, bundles=(),
            verdict="none", message=(f"no member technology answers any requirement (no relevance reaches "
                                     f"{floor:.2f}): no bundle to propose"))
    cover = selection_coverage(table.fused, table.relevance, floor)
    shortlist = _shortlist(cover, candidates)
    n_cov = len(reqs) - len(gaps)
    bundles: list[Proposal] = []
    single_set: SingleInstitution | None = None
    single = _single(describer, cover, shortlist)
    if single is not None:
        name, members, score = single
        row = describer.row(members, "single_institution", score)
        single_set = SingleInstitution(institution=name, members=row.members, titles=row.titles,
                                       relevance=row.relevance)
        bundles.append(row)
    sub = [cover[i] for i in shortlist]
    found = select_bundles(np.array(sub), [owners[i] for i in shortlist],
                           similarity=None if similarity is None else similarity[np.ix_(shortlist, shortlist)],
                           config=BundleConfig(top_n=max(top_n * 4, 10))) if len(shortlist) >= 2 else []
    single_quality = describer.quality(single[1])[1] if single else None
    for b in found:
        members = [shortlist[m] for m in b.members]
        covered, quality = describer.quality(members)
        if single_quality is not None and (covered < n_cov or quality < single_quality - 1e-9):
            continue  # a convergence option must cover as well or better than the single institution
        bundles.append(describer.row(members, "convergence", b.score))
        if len(bundles) >= top_n:
            break
    chosen = tuple(bundles[:top_n])
    verdict, message = _verdict(chosen, gaps, n_cov, reqs, single)
    return BundlesResult(requirements=tuple(reqs), gaps=gaps, relevance_floor=floor, single_institution=single_set,
                         bundles=chosen, verdict=verdict, message=message)


def _verdict(bundles: Sequence[Proposal], gaps: Sequence[int], n_cov: int, reqs: Sequence[str],
             single: tuple[str, list[int], float] | None) -> tuple[str, str]:
    gap_text = "; ".join(reqs[j] for j in gaps)
    gap_note = f" Not covered by any member technology: {gap_text}." if gaps else ""
    convergence = [b for b in bundles if b.kind == "convergence"]
    if single is not None:
        alt = (f" {len(convergence)} convergence option(s) across institutions cover as well or better."
               if convergence else " No cross-institution bundle covers it as well.")
        return ("single_institution", f"{single[0]} alone covers all {n_cov} coverable requirement(s) with its own "
                                      f"technologies.{alt}{gap_note}")
    if convergence and convergence[0].covered == n_cov:
        return ("convergence", f"No single institution covers the demand; convergence bundles across institutions "
                               f"cover all {n_cov} coverable requirement(s).{gap_note}")
    best = max((b.covered for b in bundles), default=0)
    return "partial", f"The best proposal covers {best} of {len(reqs)} requirement(s).{gap_note}"
