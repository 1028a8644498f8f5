"""Demand matching: a company's demand → ranked technologies with evidence, and convergence bundles.

A demand is split into requirement facets (explicit ``requirements`` or :func:`split_requirements` of
its text). Filters are applied before ranking. Each candidate technology is scored against the whole
demand and against every facet with the index's retrieval pipeline; a facet counts as covered by a
technology when its per-facet coverage (the fused score mapped to [0, 1]) reaches 0.5.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import ValidationError
from matcher.index.store import IndexVersion
from matcher.matching.bundles import BundleConfig, select_bundles, single_institution_cover
from matcher.matching.facets import split_requirements
from matcher.records import DemandProfile, Technology

FILTER_KEYS = ("institutions", "ipc_prefixes", "date_from", "date_to", "legal_status", "trl_min", "trl_max")
#: fused score at which a technology half-covers a facet, and the logistic slope around it
COVER_MIDPOINT = 2.0
COVER_SLOPE = 1.5
POOL = 50
#: weight of the title-overlap bonus added to a facet's fused score (see :func:`title_overlap`)
TITLE_WEIGHT = 3.0
#: share of the best single-requirement score in a match's ranking score (the rest: the whole demand)
FACET_WEIGHT = 0.5
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|(?<=다\.)\s*|\n+")


def load_demand(value: str) -> DemandProfile:
    """A demand from a JSON file path (``{"text", "requirements", "filters"}``) or a plain text string."""
    path = Path(value)
    try:
        is_file = len(value) < 1024 and "\n" not in value and path.is_file()
    except OSError:  # a long demand text is not a path
        is_file = False
    if value.endswith(".json") or is_file:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ValidationError(f"{value}: no such demand file", field="demand") from None
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{value}: not valid JSON ({exc.msg} at line {exc.lineno})", field="demand") from None
        if not isinstance(data, dict):
            raise ValidationError(f"{value}: a JSON object with 'text' or 'requirements' is expected", field="demand")
        data = {k: v for k, v in data.items() if k in ("text", "requirements", "filters", "id", "company")}
        return DemandProfile.from_dict(data)
    return DemandProfile(text=value)


def filter_predicate(filters: dict[str, Any]) -> Callable[[Technology], bool] | None:
    """A predicate for the demand's filters; unknown keys are refused, naming the valid ones."""
    if not filters:
        return None
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise ValidationError(f"unknown filter(s) {unknown}; valid: {', '.join(FILTER_KEYS)}", field="filters")

    def as_list(key: str) -> list[str]:
        value = filters.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise ValidationError(f"filter {key!r} must be a string or a list of strings, got {value!r}", field=key)

    institutions = set(as_list("institutions"))
    prefixes = [p.replace(" ", "").upper() for p in as_list("ipc_prefixes")]
    statuses = set(as_list("legal_status"))
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    trl_min, trl_max = filters.get("trl_min"), filters.get("trl_max")

    def keep(t: Technology) -> bool:
        if institutions and not institutions & set(t.institutions or t.applicants):
            return False
        if prefixes and not any(code.replace(" ", "").upper().startswith(p) for code in t.ipc for p in prefixes):
            return False
        if statuses and t.legal_status not in statuses:
            return False
        if date_from and (not t.application_date or t.application_date < date_from):
            return False
        if date_to and (not t.application_date or t.application_date > date_to):
            return False
        if trl_min is not None and (t.trl is None or t.trl < trl_min):
            return False
        return not (trl_max is not None and (t.trl is None or t.trl > trl_max))

    return keep


#: how fast coverage falls with a candidate's score gap to the best candidate of the same facet
COVER_GAP_SCALE = 0.5


def coverage_of(score: float) -> float:
    """Fused score → coverage in [0, 1] (logistic around :data:`COVER_MIDPOINT`)."""
    return 1.0 / (1.0 + math.exp(-COVER_SLOPE * (score - COVER_MIDPOINT)))


def coverage_table(table: np.ndarray) -> np.ndarray:
    """(candidates × facets) fused scores → coverage in [0, 1].

    A facet's best candidate gets the absolute coverage of its score (:func:`coverage_of`); the others
    get that times ``exp(-gap / COVER_GAP_SCALE)``, ``gap`` being their score distance to the best. Without
    the relative part many candidates saturate near 1 and a bundle cannot tell the facet's real answer
    from a near-miss (measured with ``bench/bundle_recovery.py``).
    """
    if table.size == 0:
        return np.zeros(table.shape)
    scores = np.where(np.isneginf(table), -10.0, table)
    best = scores.max(axis=0, keepdims=True)
    absolute = 1.0 / (1.0 + np.exp(-COVER_SLOPE * (best - COVER_MIDPOINT)))
    return absolute * np.exp(-(best - scores) / COVER_GAP_SCALE)


@dataclass
class Match:
    technology: Technology
    score: float
    covers: list[int]
    coverage: list[float]
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        t = self.technology
        return {
            "id": t.id,
            "score": round(self.score, 4),
            "title": t.title,
            "title_en": t.title_en,
            "institutions": list(t.institutions or t.applicants),
            "covers": self.covers,
            "coverage": [round(c, 3) for c in self.coverage],
            "evidence": self.evidence,
        }


class DemandMatcher:
    """Matches demands against one index version."""

    def __init__(self, version: IndexVersion, pool: int = POOL, title_weight: float = TITLE_WEIGHT,
                 facet_weight: float = FACET_WEIGHT) -> None:
        self.version = version
        self.pool = pool
        self.title_weight = title_weight
        self.facet_weight = facet_weight
        self._title_terms: dict[int, list[set[str]]] = {}  # position → key terms of its titles

    def requirements(self, demand: DemandProfile) -> list[str]:
        return list(demand.requirements) if demand.requirements else split_requirements(demand.text)

    def _allowed(self, demand: DemandProfile, visible: np.ndarray | None = None) -> np.ndarray | None:
        """The demand's filters AND-ed with ``visible`` (what the caller may see); ``None``: everything."""
        keep = filter_predicate(dict(demand.filters))
        if keep is None:
            return visible
        allowed = np.fromiter((keep(t) for t in self.version.technologies), dtype=bool,
                              count=len(self.version.technologies))
        return allowed if visible is None else allowed & visible

    def _score_table(self, demand: DemandProfile, visible: np.ndarray | None = None) -> tuple[list[str], dict[int, float], dict[int, dict[str, Any]],
                                                            np.ndarray]:
        """Requirements, whole-demand scores, components, and the (candidates × requirements) score table."""
        retriever = self.version.retriever
        allowed = self._allowed(demand, visible)
        reqs = self.requirements(demand)
        retriever.prepare([demand.query_text, *reqs])  # every text encoded once, one batch per encoder
        whole = retriever.search(demand.query_text, self.pool, allowed=allowed)
        per_req = [retriever.search(r, self.pool, allowed=allowed) for r in reqs]
        candidates = sorted({s.position for s in whole} | {s.position for hits in per_req for s in hits})
        index = {p: i for i, p in enumerate(candidates)}
        table = np.full((len(candidates), len(reqs)), -np.inf)
        for j, hits in enumerate(per_req):
            for s in hits:
                table[index[s.position], j] = s.score
        # candidates not in a facet's pool: score them against that facet exactly
        if candidates:
            mask = np.zeros(len(self.version.technologies), dtype=bool)
            mask[candidates] = True
            for j, r in enumerate(reqs):
                if np.isneginf(table[:, j]).any():
                    for s in retriever.search(r, len(candidates), allowed=mask if allowed is None else mask & allowed):
                        table[index[s.position], j] = max(table[index[s.position], j], s.score)
        if self.title_weight and candidates:
            req_terms = [_title_terms(self.version.retriever.analyzer, r) for r in reqs]
            for i, p in enumerate(candidates):
                overlap = self._title_overlaps(p, req_terms)
                table[i] += self.title_weight * overlap
        scores = {s.position: s.score for s in whole}
        components = {s.position: s.components for s in whole}
        return reqs, {p: scores.get(p, -np.inf) for p in candidates}, components, table

    def match(self, demand: DemandProfile, top_k: int = 10, *,
              visible: np.ndarray | None = None) -> tuple[list[str], list[Match]]:
        """Ranked matches; ``visible`` (a mask by position) restricts the candidates before ranking."""
        reqs, whole, components, table = self._score_table(demand, visible)
        candidates = list(whole)
        cover = coverage_table(table)
        missing = [p for p in candidates if not np.isfinite(whole[p])]
        if missing:  # candidates found through one facet only: their exact whole-demand score
            mask = np.zeros(len(self.version.technologies), dtype=bool)
            mask[missing] = True
            for s in self.version.retriever.search(demand.query_text, len(missing), allowed=mask):
                whole[s.position] = s.score
        best_facet = table.max(axis=1) if table.size else np.zeros(len(candidates))
        fw = self.facet_weight if len(reqs) > 1 else 0.0
        combined = {p: (1.0 - fw) * whole[p] + fw * float(best_facet[i]) for i, p in enumerate(candidates)}
        # ranked by the whole-demand score blended with the best single-requirement score: a technology
        # that answers one requirement squarely beats one that touches the whole text vaguely
        ranked = sorted(range(len(candidates)), key=lambda i: (-combined[candidates[i]], candidates[i]))
        matches = []
        analyzer = self.version.retriever.analyzer
        demand_terms = _surface_terms(analyzer, demand.query_text)
        for i in ranked[:top_k]:
            pos = candidates[i]
            tech = self.version.technologies[pos]
            covers = [j for j in range(len(reqs)) if cover[i, j] >= 0.5]
            matches.append(Match(
                technology=tech,
                score=float(combined[pos]),
                covers=covers,
                coverage=[float(c) for c in cover[i]],
                evidence={
                    "requirements": [{"index": j, "text": reqs[j], "coverage": round(float(cover[i, j]), 3)}
                                     for j in sorted(range(len(reqs)), key=lambda j: -cover[i, j])],
                    "best_sentence": best_sentence(analyzer, tech, demand.query_text),
                    "shared_terms": sorted(demand_terms & _surface_terms(analyzer, tech.text))[:12],
                    "ipc": list(tech.ipc),
                    "score_components": {**components.get(pos, {}), "whole_demand": round(float(whole[pos]), 4),
                                         "best_requirement": round(float(best_facet[i]), 4),
                                         "requirement_weight": fw},
                },
            ))
        return reqs, matches

    def bundles(self, demand: DemandProfile, top_n: int = 5, candidates: int = 20, *,
                visible: np.ndarray | None = None) -> dict[str, Any]:
        """Convergence bundles; ``visible`` (a mask by position) restricts the candidates before ranking."""
        reqs, whole, _components, table = self._score_table(demand, visible)
        positions = list(whole)
        cover = coverage_table(table)
        # keep the strongest candidates per requirement and overall (bounded search)
        keep: set[int] = set()
        per_req = max(2, candidates // max(1, len(reqs)))
        for j in range(len(reqs)):
            keep.update(np.argsort(-cover[:, j], kind="stable")[:per_req].tolist())
        keep.update(np.argsort(-cover.mean(axis=1), kind="stable")[: max(0, candidates - len(keep))].tolist())
        chosen = sorted(keep)
        sub = cover[chosen]
        techs = [self.version.technologies[positions[i]] for i in chosen]
        owners = [tuple(t.institutions or t.applicants[:1]) for t in techs]
        config = BundleConfig(top_n=top_n)
        similarity = self._similarity([positions[i] for i in chosen])
        found = select_bundles(sub, owners, similarity=similarity, config=config)
        single = single_institution_cover(sub, owners, config=config)
        bundles = []
        for b in found:
            bundles.append({
                "members": [techs[m].id for m in b.members],
                "titles": [techs[m].title for m in b.members],
                "institutions": list(b.institutions),
                "score": round(b.score, 4),
                "coverage": [{"requirement": r, "text": reqs[r], "member": techs[m].id, "score": round(s, 3)}
                             for r, m, s in b.coverage],
                "gaps": list(b.gaps),
            })
        return {"requirements": reqs, "bundles": bundles, "single_institution": single}

    def _title_overlaps(self, position: int, req_terms: list[set[str]]) -> np.ndarray:
        """Dice overlap of each requirement's key terms with the technology's title (Korean or English)."""
        titles = self._title_terms.get(position)
        if titles is None:
            tech = self.version.technologies[position]
            analyzer = self.version.retriever.analyzer
            titles = [_title_terms(analyzer, x) for x in (tech.title, tech.title_en) if x.strip()]
            self._title_terms[position] = titles
        return np.array([max((title_overlap(r, t) for t in titles), default=0.0) for r in req_terms])

    def _similarity(self, positions: list[int]) -> np.ndarray | None:
        retriever = self.version.retriever
        name = retriever.config.dense_multi or retriever.config.dense_en
        if not name or name not in retriever.dense_:
            return None
        rows, index = retriever.dense_[name]
        matrix = index.matrix()
        if matrix is None:
            return None
        where = {int(p): i for i, p in enumerate(rows)}
        if not all(p in where for p in positions):
            return None
        vectors = matrix[[where[p] for p in positions]]
        return vectors @ vectors.T


def _title_terms(analyzer: Any, text: str) -> set[str]:
    return {t for t in analyzer.analyze(text) if not t.startswith("#")}


def title_overlap(req: set[str], title: set[str]) -> float:
    """Dice coefficient of two key-term sets: 1.0 when a requirement names the technology's title exactly.

    Requirements are often the name of a technology; a facet's fused score alone ranks a long title that
    contains the short name's words above the record that bears exactly that name.
    """
    if not req or not title:
        return 0.0
    return 2.0 * len(req & title) / (len(req) + len(title))


def _surface_terms(analyzer: Any, text: str) -> set[str]:
    return {t for t in analyzer.analyze(text) if not t.startswith("#") and len(t) > 1 and not t.isdigit()}


def best_sentence(analyzer: Any, tech: Technology, query: str) -> str:
    """The sentence of the technology's title/abstract sharing the most key terms with the query."""
    sentences = [s.strip() for s in _SENTENCE.split(tech.abstract or "") if len(s.strip()) > 10] or [tech.title]
    q = set(analyzer.analyze(query))
    scored = [(len(q & set(analyzer.analyze(s))), -i, s) for i, s in enumerate(sentences)]
    return max(scored)[2][:400]
