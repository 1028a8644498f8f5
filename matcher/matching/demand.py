"""Demand matching: a company's demand → ranked technologies with evidence, and convergence bundles.

A demand is split into requirement facets (explicit ``requirements`` or :func:`split_requirements` of
its text). Candidates are what the consortium can offer (records of member institutions, live ones
unless ``include_inactive``), restricted by the demand's filters and the caller's visibility before
ranking. Each candidate is scored against the whole demand and against every facet with the index's
retrieval pipeline (:class:`ScoreTable`); what users see is calibrated relevance in [0, 1]
(``retrieval/relevance.py``): a technology covers a requirement when its relevance reaches the floor, and a
requirement no candidate covers is a gap. Bundles are assembled in ``matching/proposals.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.errors import ValidationError
from matcher.institutions import InstitutionRegistry
from matcher.matching.facets import split_requirements
from matcher.records import DemandProfile, Technology, check_iso_date
from matcher.retrieval.relevance import RELEVANCE_FLOOR, RelevanceModel, title_overlap, with_title
from matcher.retrieval.retriever import Scored
from matcher.store.versions import IndexVersion

if TYPE_CHECKING:
    from matcher.matching.proposals import BundlesResult

FILTER_KEYS = ("institutions", "ipc_prefixes", "date_from", "date_to", "legal_status", "trl_min", "trl_max")
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


def filter_predicate(filters: dict[str, Any], registry: InstitutionRegistry | None = None
                     ) -> Callable[[Technology], bool] | None:
    """A predicate for the demand's filters; unknown keys are refused, naming the valid ones.

    With a ``registry``, institution names resolve by any spelling (aliases, spacing, 산학협력단, English
    names) and an unknown institution is refused, listing the known ones."""
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
    if registry is not None and institutions:
        institutions = set(registry.resolve_all(sorted(institutions), field="filters.institutions"))
    prefixes = [p.replace(" ", "").upper() for p in as_list("ipc_prefixes")]
    statuses = set(as_list("legal_status"))
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    trl_min, trl_max = filters.get("trl_min"), filters.get("trl_max")
    for key, value in (("date_from", date_from), ("date_to", date_to)):
        check_iso_date(key, value or None, what="filter", field=f"filters.{key}")
    for key, value in (("trl_min", trl_min), ("trl_max", trl_max)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9):
            raise ValidationError(f"filter {key!r} must be an integer from 1 to 9, got {value!r}", field=f"filters.{key}")
    if date_from and date_to and date_from > date_to:
        raise ValidationError(f"filter 'date_from' ({date_from}) is after 'date_to' ({date_to})",
                              field="filters.date_to")
    if trl_min is not None and trl_max is not None and trl_min > trl_max:
        raise ValidationError(f"filter 'trl_min' ({trl_min}) is above 'trl_max' ({trl_max})", field="filters.trl_max")

    def keep(t: Technology) -> bool:
        if institutions:
            names = t.institutions or t.applicants
            owned = {registry.canonical(n) for n in names} if registry is not None else set(names)
            if not institutions & owned:
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


@dataclass
class ScoreTable:
    """Scores of candidate technologies against a demand: the whole text and each requirement.

    ``fused`` is the retriever's fused score plus the title bonus (for ranking and bundle selection,
    relative to the corpus); ``relevance`` is calibrated (absolute, [0, 1], title evidence included)."""

    requirements: list[str]
    positions: list[int]
    fused: np.ndarray             # (candidates × requirements)
    relevance: np.ndarray         # (candidates × requirements)
    whole: np.ndarray             # (candidates,) fused whole-demand score
    whole_relevance: np.ndarray   # (candidates,)
    components: dict[int, dict[str, Any]]  # position → the whole-demand score's components

    def copy(self) -> ScoreTable:
        """A copy sharing nothing mutable with this table (a component is a number, a string or ``None``):
        what ``copy.deepcopy`` gives, without its per-object cost (≈ 5 ms a table of a few hundred rows)."""
        return ScoreTable(list(self.requirements), list(self.positions), self.fused.copy(), self.relevance.copy(),
                          self.whole.copy(), self.whole_relevance.copy(),
                          {p: dict(c) for p, c in self.components.items()})


@dataclass
class Match:
    technology: Technology
    relevance: float
    score: float
    covers: list[int]
    coverage: list[float]
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.technology.summary(),
            "relevance": round(self.relevance, 3),
            "score": round(self.score, 4),
            "covers": self.covers,
            "coverage": [round(c, 3) for c in self.coverage],
            "evidence": self.evidence,
        }


@dataclass
class MatchResult:
    """Ranked matches; ``no_good_match`` when no technology reaches the relevance floor."""

    requirements: list[str]
    matches: list[Match]
    floor: float

    @property
    def no_good_match(self) -> bool:
        return not self.matches

    def to_dict(self) -> dict[str, Any]:
        message = None
        if self.no_good_match:
            message = (f"no member technology matches this demand well (no relevance reaches {self.floor:.2f}); "
                       "try other words, fewer filters, or include inactive records")
        return {"requirements": self.requirements, "matches": [m.to_dict() for m in self.matches],
                "no_good_match": self.no_good_match, "message": message, "relevance_floor": self.floor}

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as ``requirements, matches``."""
        return iter((self.requirements, self.matches))


class DemandMatcher:
    """Matches demands against one index version."""

    def __init__(self, version: IndexVersion, pool: int = POOL, title_weight: float = TITLE_WEIGHT,
                 facet_weight: float = FACET_WEIGHT, floor: float | None = None,
                 relevance: RelevanceModel | None = None) -> None:
        self.version = version
        self.pool = pool
        self.title_weight = title_weight
        self.facet_weight = facet_weight
        self.floor = RELEVANCE_FLOOR if floor is None else floor
        self.relevance_model = relevance or RelevanceModel(version.retriever)
        self._title_terms: dict[int, list[set[str]]] = {}  # position → key terms of its titles

    def requirements(self, demand: DemandProfile) -> list[str]:
        return list(demand.requirements) if demand.requirements else split_requirements(demand.text)

    def allowed(self, demand: DemandProfile, visible: np.ndarray | None = None,
                include_inactive: bool = False) -> np.ndarray:
        """What may be proposed: member institutions' records, live unless ``include_inactive``, passing
        the demand's filters and ``visible`` (what the caller may see)."""
        version = self.version
        mask = version.offerable.copy()
        if not include_inactive:
            mask &= version.active
        keep = filter_predicate(dict(demand.filters), version.registry)
        if keep is not None:
            mask &= np.fromiter((keep(t) for t in version.technologies), dtype=bool, count=len(version.technologies))
        if visible is not None:
            mask &= visible
        return mask

    def score_table(self, demand: DemandProfile, visible: np.ndarray | None = None,
                    include_inactive: bool = False) -> ScoreTable:
        """Every candidate (union of the whole-demand and per-requirement pools) scored exactly against the
        whole demand and every requirement, with the statistics of the allowed set."""
        retriever = self.version.retriever
        allowed = self.allowed(demand, visible, include_inactive)
        reqs = self.requirements(demand)
        texts = [demand.query_text, *reqs]
        retriever.prepare(texts)  # every text encoded once, one batch per encoder
        # each text searched once: its top ``pool`` gives the candidates, then every candidate's exact scores
        candidates, hits = retriever.search_pool(texts, self.pool, allowed=allowed)
        return self._scored(reqs, texts, candidates, hits)

    def score_technologies(self, demand: DemandProfile, positions: list[int], visible: np.ndarray | None = None,
                           include_inactive: bool = False) -> ScoreTable:
        """Chosen technologies (by position; those ``visible`` hides are left out) scored against the whole
        demand and every requirement exactly as :meth:`score_table` scores its candidates: with the
        statistics of everything allowed, so the numbers agree with ``match`` and ``bundles``. A chosen
        technology the demand's filters or liveness would leave out is scored too (it joins the allowed set)."""
        allowed = self.allowed(demand, visible, include_inactive)
        chosen = sorted({int(p) for p in positions if visible is None or visible[int(p)]})
        allowed[chosen] = True
        reqs = self.requirements(demand)
        texts = [demand.query_text, *reqs]
        retriever = self.version.retriever
        retriever.prepare(texts)
        hits: list[list[Scored]] = [[] for _ in texts]
        if chosen:
            within = np.zeros(len(self.version.technologies), dtype=bool)
            within[chosen] = True
            hits = [retriever.search(text, len(chosen), allowed=allowed, within=within) for text in texts]
        return self._scored(reqs, texts, chosen, hits)

    def _scored(self, reqs: list[str], texts: list[str], candidates: list[int],
                hits: list[list[Scored]]) -> ScoreTable:
        """The score table of ``candidates`` from each text's ``hits`` on them (``texts``: the whole demand, then
        each of ``reqs``)."""
        n_c, n_r = len(candidates), len(reqs)
        fused, relevance = np.zeros((n_c, n_r)), np.zeros((n_c, n_r))
        whole, whole_rel = np.zeros(n_c), np.zeros(n_c)
        components: dict[int, dict[str, Any]] = {}
        if candidates:
            index = {p: i for i, p in enumerate(candidates)}
            for j, (text, found) in enumerate(zip(texts, hits, strict=True)):
                rel = self.relevance_model.of_hits(text, found)
                rows = [index[h.position] for h in found]
                if j == 0:
                    whole[rows] = [h.score for h in found]
                    whole_rel[rows] = rel
                    components = {h.position: h.components for h in found}
                else:
                    fused[rows, j - 1] = [h.score for h in found]
                    relevance[rows, j - 1] = rel
            dice = self._title_dice(candidates, reqs)
            fused += self.title_weight * dice
            relevance = with_title(relevance, dice)
        return ScoreTable(reqs, candidates, fused, relevance, whole, whole_rel, components)

    def match(self, demand: DemandProfile, top_k: int = 10, *, visible: np.ndarray | None = None,
              include_inactive: bool = False, min_relevance: float | None = None) -> MatchResult:
        """Ranked matches at or above the relevance floor; ``visible`` restricts the candidates before ranking."""
        floor = self.floor if min_relevance is None else min_relevance
        table = self.score_table(demand, visible, include_inactive)
        reqs, candidates = table.requirements, table.positions
        fw = self.facet_weight if len(reqs) > 1 else 0.0
        # a technology's relevance to the demand: the stronger of the whole text's and its best single
        # requirement's (a technology that answers one requirement squarely is a good match for it, even if
        # it touches the whole text vaguely); ties by the fused blend of the same two scores
        best_rel = table.relevance.max(axis=1) if candidates else np.zeros(0)
        relevance = np.maximum(table.whole_relevance, best_rel) if len(reqs) > 1 else best_rel
        best_facet = table.fused.max(axis=1) if candidates else np.zeros(0)
        combined = (1.0 - fw) * table.whole + fw * best_facet
        ranked = sorted(range(len(candidates)), key=lambda i: (-round(float(relevance[i]), 3), -combined[i],
                                                               candidates[i]))
        ranked = [i for i in ranked if relevance[i] >= floor][:top_k]
        analyzer = self.version.retriever.analyzer
        demand_terms = _surface_terms(analyzer, demand.query_text)
        matches = []
        for i in ranked:
            pos = candidates[i]
            tech = self.version.technologies[pos]
            cover = table.relevance[i]
            matches.append(Match(
                technology=tech,
                relevance=float(relevance[i]),
                score=float(combined[i]),
                covers=[j for j in range(len(reqs)) if cover[j] >= floor],
                coverage=[float(c) for c in cover],
                evidence={
                    "requirements": [{"index": j, "text": reqs[j], "relevance": round(float(cover[j]), 3),
                                      "covered": bool(cover[j] >= floor)}
                                     for j in sorted(range(len(reqs)), key=lambda j: -cover[j])],
                    "best_sentence": best_sentence(analyzer, tech, demand.query_text),
                    "shared_terms": sorted(demand_terms & _surface_terms(analyzer, tech.text))[:12],
                    "ipc": list(tech.ipc),
                    "score_components": {**table.components.get(pos, {}),
                                         "whole_demand": round(float(table.whole[i]), 4),
                                         "whole_demand_relevance": round(float(table.whole_relevance[i]), 3),
                                         "best_requirement": round(float(best_facet[i]), 4),
                                         "best_requirement_relevance": round(float(table.relevance[i].max()), 3),
                                         "requirement_weight": fw},
                },
            ))
        return MatchResult(reqs, matches, floor)

    def bundles(self, demand: DemandProfile, top_n: int = 5, candidates: int = 20, *,
                visible: np.ndarray | None = None, include_inactive: bool = False) -> BundlesResult:
        """Who covers the demand: one institution's own set when it can, convergence bundles across
        institutions where they cover as well or better, and the gaps (see ``matching/proposals.py``)."""
        from matcher.matching.proposals import propose

        table = self.score_table(demand, visible, include_inactive)
        techs = [self.version.technologies[p] for p in table.positions]
        similarity = self._similarity(table.positions)
        return propose(table, techs, self.version.registry, similarity, top_n=top_n, candidates=candidates,
                       floor=self.floor)

    def _title_dice(self, positions: list[int], reqs: list[str]) -> np.ndarray:
        """(candidates × requirements) Dice overlap of each requirement's key terms with each title."""
        analyzer = self.version.retriever.analyzer
        req_terms = [_title_terms(analyzer, r) for r in reqs]
        out = np.zeros((len(positions), len(reqs)))
        for i, p in enumerate(positions):
            titles = self._title_terms.get(p)
            if titles is None:
                tech = self.version.technologies[p]
                titles = [_title_terms(analyzer, x) for x in (tech.title, tech.title_en) if x.strip()]
                self._title_terms[p] = titles
            out[i] = [max((title_overlap(r, t) for t in titles), default=0.0) for r in req_terms]
        return out

    def _similarity(self, positions: list[int]) -> np.ndarray | None:
        vectors = self.version.retriever.document_vectors()
        if vectors is None or not positions:
            return None
        sub = vectors[positions]
        return sub @ sub.T


def _title_terms(analyzer: Any, text: str) -> set[str]:
    return {t for t in analyzer.analyze(text) if not t.startswith("#")}


def _surface_terms(analyzer: Any, text: str) -> set[str]:
    return {t for t in analyzer.analyze(text) if not t.startswith("#") and len(t) > 1 and not t.isdigit()}


def best_sentence(analyzer: Any, tech: Technology, query: str) -> str:
    """The sentence of the technology's title/abstract sharing the most key terms with the query."""
    sentences = [s.strip() for s in _SENTENCE.split(tech.abstract or "") if len(s.strip()) > 10] or [tech.title]
    q = set(analyzer.analyze(query))
    scored = [(len(q & set(analyzer.analyze(s))), -i, s) for i, s in enumerate(sentences)]
    return max(scored)[2][:400]
