"""Licensee candidates: which companies are most likely to take up a technology, and why.

For a query — a technology of the index, a bundle of them, or free text — every candidate company gets
four signals, each reported with its contribution to the score and its evidence:

``portfolio``
    How close the company's own patents are to the query: the query is searched with the index's
    retrieval pipeline over every portfolio patent at once (the query technology itself left out; fused
    scores are standardised over that pool), and the company's value is its BEST patent's score — not a
    sum nor a mean over the portfolio, so a company with 90 unrelated patents does not win by volume and
    one close patent (a family filing, a follow-up) is strong evidence. The best of many patents is still
    high by chance alone, a head start that acts as an implicit popularity prior; when the query has an
    owner, the explicit co-application prior below takes that role, and the head start is removed:
    ``volume_correction × E[max of n standard normals]`` (Blom's approximation, ``n`` the portfolio size)
    is subtracted. On the development benchmark that pairing is best both ways (with an owner: correction
    on 0.717 vs off 0.687 hit@1; free text: off 0.606 vs on 0.495; ``docs/quality.md``).
``coapplication``
    Prior joint applications of the company with the owning institution(s), other than the query itself:
    ``log(1 + 2·count)`` — up to a per-query constant, the log of the smoothed share
    ``(count + ½) / (all joint applications + 1)``, i.e. a prior P(company | owner) added to a
    similarity on a log-likelihood scale. Zero for free-text queries (no owner).
``demands``
    The best cosine (multilingual encoder) between the query and the company's saved demand profiles.
``industry``
    The cosine between the query and what the company says it does (description, products, KSIC codes).

``score = w_portfolio·portfolio + w_coapplication·coapplication + w_demands·max(0, demands - floor)
+ w_industry·max(0, industry - floor)``; ties by name.

**Topical fit decides who is a candidate**: a company is proposed only when at least one of its portfolio
patents reaches the calibrated relevance floor for the query, or (for a technology of the index) shares
an IPC subclass with it (``retrieval/relevance.py``; relevance is
computed for the query's title(s), the form the calibration was fitted on). Co-application, past demands
and industry profile only reorder the plausible ones. Each candidate shows those portfolio patents
(relevance, legal status, IPC). No candidate at all is a possible answer ("no good match").
Lapsed, refused, withdrawn and abandoned records are neither queries nor evidence unless
``include_inactive``. Parameters were chosen on
the development co-application benchmark (``bench/licensee_benchmark.py``, ``docs/quality.md``). The owners of the query (its member institutions)
are never candidates; universities, institutes, hospitals and government bodies are candidates only with
``include_institutions``. Technologies a viewer may not see (``visible``) give no evidence and no signal.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import norm

from matcher.errors import NotFoundError, ValidationError
from matcher.licensing.directory import CompanyDirectory, OrgProfile, org_key
from matcher.records import Technology
from matcher.retrieval.relevance import RELEVANCE_FLOOR, RelevanceModel
from matcher.store.versions import IndexVersion


@dataclass(frozen=True)
class LicenseeConfig:
    """Signal weights and aggregation parameters (see the module docstring)."""

    volume_correction: float = 1.0  # applied only when the query has an owner (see the module docstring)
    w_portfolio: float = 1.0
    w_coapplication: float = 2.0
    w_demands: float = 10.0
    w_industry: float = 10.0
    cosine_floor: float = 0.2
    evidence_items: int = 3
    #: a portfolio patent sharing an IPC subclass with the queried technology is topical evidence too (the
    #: calibrated relevance asks "is this the same invention", which a company's other patents rarely are)
    ipc_topical: bool = True


@dataclass
class Candidate:
    """One licensee candidate with its score, per-signal contributions and evidence."""

    org: OrgProfile
    score: float
    signals: dict[str, float]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    portfolio_size: int = 0  # patents of the company the viewer may see
    relevance: float = 0.0   # calibrated relevance of its best portfolio patent

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.org.name,
            "key": self.org.key,
            "kind": self.org.kind,
            "aliases": sorted(self.org.aliases),
            "relevance": round(self.relevance, 3),
            "score": round(self.score, 4),
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "portfolio_size": self.portfolio_size,
            "evidence": self.evidence,
        }


@dataclass
class LicenseeResult:
    """Candidates, best first; ``no_good_match`` when no company has a topically fitting patent."""

    candidates: list[Candidate]
    floor: float

    @property
    def no_good_match(self) -> bool:
        return not self.candidates

    def to_dict(self) -> dict[str, Any]:
        message = None
        if self.no_good_match:
            message = (f"no company has a patent that fits this technology (no relevance reaches {self.floor:.2f}): "
                       "no plausible licensee in the data")
        return {"candidates": [c.to_dict() for c in self.candidates], "no_good_match": self.no_good_match,
                "message": message, "relevance_floor": self.floor}

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self.candidates)

    def __len__(self) -> int:
        return len(self.candidates)

    def __getitem__(self, i: int) -> Candidate:
        return self.candidates[i]


def _subclasses(codes: Sequence[str]) -> set[str]:
    """IPC subclasses (``H01M``) of a list of codes."""
    return {c.replace(" ", "")[:4].upper() for c in codes if len(c.replace(" ", "")) >= 4}


def expected_max(n: int) -> float:
    """Expected maximum of ``n`` standard normal draws (Blom: Φ⁻¹((n − 0.375) / (n + 0.25))); 0 for n ≤ 1."""
    if n <= 1:
        return 0.0
    return float(norm.ppf((n - 0.375) / (n + 0.25)))


class LicenseeRanker:
    """Ranks organisations of one index version as licensees for a technology, a bundle or a text."""

    def __init__(
        self,
        version: IndexVersion,
        config: LicenseeConfig | None = None,
        directory: CompanyDirectory | None = None,
        relevance: RelevanceModel | None = None,
        floor: float | None = None,
    ) -> None:
        self.version = version
        self.config = config or LicenseeConfig()
        self.directory = directory or CompanyDirectory.build(
            version.technologies, version.companies, version.demands, registry=version.registry
        )
        self.relevance = relevance or RelevanceModel(version.retriever)
        self.floor = RELEVANCE_FLOOR if floor is None else floor
        self._vectors: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ query
    def _query(
        self, technology_id: str | None, text: str | None, members: Sequence[str] | None,
        visible: np.ndarray | None, include_inactive: bool = False,
    ) -> tuple[str, str, set[str], set[int]]:
        """(ranking text, relevance text, owner keys, query positions)."""
        given = [x for x in (technology_id, text, members) if x]
        if len(given) != 1:
            raise ValidationError("give exactly one of technology_id, text or members", field="technology_id")
        if text:
            return text, text, set(), set()
        ids = [technology_id] if technology_id else list(members or [])
        positions = []
        for tid in ids:
            try:
                pos = self.version.position_of(str(tid))
            except NotFoundError:
                pos = None
            if pos is None or (visible is not None and not visible[pos]):  # the same error: no existence leak
                raise NotFoundError(f"technology {tid!r} not found")
            positions.append(pos)
        techs = [self.version.technologies[p] for p in positions]
        dead = [t for t in techs if not t.active]
        if dead and not include_inactive:
            field_name = "technology_id" if technology_id else "members"
            raise ValidationError(
                "; ".join(f"{t.id} is {t.legal_status} (lapsed, refused, withdrawn or abandoned)" for t in dead)
                + ": it is not offered for licence; set include_inactive to rank licensees anyway", field=field_name)
        owners = {org_key(i, "university") for t in techs for i in t.institutions}
        titles = "\n".join(x for t in techs for x in (t.title, t.title_en) if x.strip())
        return "\n\n".join(t.text for t in techs), titles, owners, set(positions)

    def _cosines(self, query: str, texts: list[str]) -> np.ndarray:
        retriever = self.version.retriever
        name = retriever.primary_encoder
        if not name or not texts:
            return np.zeros(len(texts))
        encoder = retriever.encoder(name)
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            for t, v in zip(missing, encoder.encode_queries(missing), strict=True):
                self._vectors[t] = v
        q = retriever.query_vectors(name, [query])[0]  # through the query-vector cache
        return np.array([float(self._vectors[t] @ q) for t in texts])

    # ------------------------------------------------------------------ ranking
    def rank(
        self,
        technology_id: str | None = None,
        text: str | None = None,
        members: Sequence[str] | None = None,
        top_k: int = 10,
        include_institutions: bool = False,
        visible: np.ndarray | None = None,
        exclude: Sequence[str] = (),
        include_inactive: bool = False,
        min_relevance: float | None = None,
    ) -> LicenseeResult:
        """Best ``top_k`` topically fitting candidates, best first. ``exclude``: organisation names never to
        propose; ``min_relevance``: the topical-fit floor (default :data:`RELEVANCE_FLOOR`)."""
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValidationError(f"top_k={top_k!r} is out of range; valid: an integer >= 1", field="top_k")
        cfg = self.config
        floor = self.floor if min_relevance is None else min_relevance
        query, title_query, owners, excluded = self._query(technology_id, text, members, visible, include_inactive)
        techs = self.version.technologies
        query_ipc = set().union(*(_subclasses(techs[p].ipc) for p in excluded)) if cfg.ipc_topical and excluded \
            else set()
        banned = owners | {org_key(n, "company") for n in exclude} | {org_key(n, "university") for n in exclude}
        orgs = [o for o in self.directory.candidates(include_institutions) if o.key not in banned]
        n = len(self.version.technologies)
        usable = np.ones(n, dtype=bool) if visible is None else np.asarray(visible, dtype=bool).copy()
        if not include_inactive:
            usable &= self.version.active
        for p in excluded:
            usable[p] = False

        portfolio_mask = np.zeros(n, dtype=bool)
        for o in orgs:
            portfolio_mask[o.patents] = True
        portfolio_mask &= usable
        sims: dict[int, float] = {}
        rel: dict[int, float] = {}
        if portfolio_mask.any():
            retriever = self.version.retriever
            for s in retriever.search(query, int(portfolio_mask.sum()), allowed=portfolio_mask):
                sims[s.position] = s.score
            hits = retriever.search(title_query, int(portfolio_mask.sum()), allowed=portfolio_mask)
            rel = dict(zip((h.position for h in hits), self.relevance.of_hits(title_query, hits).tolist(), strict=True))

        demands = self.version.demands
        demand_texts = sorted({demands[i].query_text for o in orgs for i in o.demands})
        profile_texts = sorted({o.profile_text for o in orgs if o.profile_text})
        cos = dict(zip(demand_texts + profile_texts, self._cosines(query, demand_texts + profile_texts), strict=True))

        out = []
        for o in orgs:
            items = sorted(((sims[p], p) for p in o.patents if p in sims), key=lambda x: (-x[0], x[1]))
            correction = cfg.volume_correction * expected_max(len(items)) if owners else 0.0
            portfolio = items[0][0] - correction if items else 0.0
            joint = sorted({p for inst in owners for p in o.coapplications.get(inst, ()) if usable[p]})
            coapp = math.log1p(2 * len(joint))
            demand_scores = sorted(((cos[demands[i].query_text], i) for i in o.demands), key=lambda x: (-x[0], x[1]))
            demand = demand_scores[0][0] if demand_scores else 0.0
            industry = cos.get(o.profile_text, 0.0) if o.profile_text else 0.0
            signals = {
                "portfolio": cfg.w_portfolio * portfolio,
                "coapplication": cfg.w_coapplication * coapp,
                "demands": cfg.w_demands * max(0.0, demand - cfg.cosine_floor),
                "industry": cfg.w_industry * max(0.0, industry - cfg.cosine_floor),
            }
            score = sum(signals.values())
            topical = sorted(((rel.get(p, 0.0), p) for _, p in items
                              if rel.get(p, 0.0) >= floor or (query_ipc and query_ipc & _subclasses(techs[p].ipc))),
                             key=lambda x: (-x[0], x[1]))
            if not topical:  # topical fit decides who is a candidate; the other signals only reorder
                continue
            evidence = self._evidence(o, topical, joint, demand_scores, industry)
            out.append(Candidate(org=o, score=score, signals=signals, evidence=evidence, relevance=topical[0][0],
                                 portfolio_size=int(usable[o.patents].sum()) + (len(set(o.patents) & excluded))))
        out.sort(key=lambda c: (-round(c.score, 9), c.org.name, c.org.key))
        return LicenseeResult(out[:top_k], floor)

    def _evidence(
        self, org: OrgProfile, items: list[tuple[float, int]], joint: list[int],  # items: (relevance, position)
        demand_scores: list[tuple[float, int]], industry: float,
    ) -> list[dict[str, Any]]:
        cfg = self.config
        techs: Sequence[Technology] = self.version.technologies
        out: list[dict[str, Any]] = []
        for r, p in items[: cfg.evidence_items]:
            t = techs[p]
            out.append({"type": "portfolio", "id": t.id, "title": t.title, "relevance": round(r, 3),
                        "legal_status": t.legal_status, "active": t.active, "ipc": list(t.ipc),
                        "application_date": t.application_date})
        for p in joint[: cfg.evidence_items]:
            t = techs[p]
            out.append({"type": "coapplication", "id": t.id, "title": t.title, "legal_status": t.legal_status,
                        "detail": f"joint application with {', '.join(t.institutions)}"})
        for s, i in demand_scores[: cfg.evidence_items]:
            if s < cfg.cosine_floor:
                continue  # an unrelated past demand is not evidence
            d = self.version.demands[i]
            out.append({"type": "demand", "id": d.id, "text": d.query_text[:300], "similarity": round(min(1.0, s), 3)})
        if org.profile_text and industry >= cfg.cosine_floor:
            out.append({"type": "industry", "detail": org.profile_text[:300], "similarity": round(min(1.0, industry), 3),
                        "codes": list(org.industry_codes)})
        return out
