"""Candidate meetings from the engine: for each company, the event's institutions whose technologies
match its demand (``single``), and sets of 2–3 institutions whose convergence bundle covers the demand
better than any one of them alone (``bundle``: all parties at one table).

Scoring (one scale for both kinds, in [0, 1])::

    coverage(M) = mean over the demand's requirements of the best calibrated relevance any of M's
                  technologies has for it (0 below the relevance floor)
    score(M)    = ½ · top relevance of M's technologies + ½ · coverage(M)

A single meeting shows the institution's matches (at most ``MAX_TECHNOLOGIES``, best first); a bundle
meeting shows the bundle's members and is kept only when its coverage beats every member institution's own.
Only technologies the organiser (a :class:`~matcher.access.Viewer`, admin by default) may see, live
records only, owned by an institution of the event. ``avoid`` requests remove every candidate holding the
pair; a ``must`` request with no engine match still becomes a candidate, score 0, with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from matcher.access import Viewer, visible_mask
from matcher.matching.demand import Match
from matcher.matching.proposals import Proposal
from matcher.matching.tablecache import TableCachingMatcher
from matcher.meetings.event import Event
from matcher.meetings.plan import Evidence
from matcher.store.versions import IndexVersion

#: score → CP-SAT integer: one unit is 0.001 of a score
SCALE = 1000
#: technologies shown per single meeting
MAX_TECHNOLOGIES = 3
#: matches considered per company (all of them above the floor in practice)
TOP_K = 100
#: convergence bundles considered per company
BUNDLES_PER_COMPANY = 5
NO_MATCH = "no matching technology among the event's institutions"
ORGANISER = Viewer("admin")


@dataclass(frozen=True)
class Candidate:
    """A meeting that may be scheduled: the company and the (sorted) institutions at its table."""

    company: str
    institutions: tuple[str, ...]
    kind: str
    technologies: tuple[str, ...]
    score: float
    evidence: tuple[Evidence, ...] = ()
    must: bool = False
    note: str = ""

    @property
    def value(self) -> int:
        """The score as CP-SAT sees it (an integer, ``SCALE`` units per 1.0)."""
        return int(round(self.score * SCALE))

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.company, self.institutions


@dataclass(frozen=True)
class CandidateSet:
    """The candidates of an event, and per company its institutions ranked by best single-meeting score
    (``recommended``: what the engine would propose first) and why it has none (``notes``)."""

    candidates: tuple[Candidate, ...]
    recommended: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def _event_mask(event: Event, version: IndexVersion, viewer: Viewer) -> np.ndarray:
    registry = version.registry
    names = [i.name for i in event.institutions]
    mask = np.fromiter((any(registry.owns(t, n) for n in names) for t in version.technologies), dtype=bool,
                       count=len(version.technologies))
    seen = visible_mask(version.technologies, viewer, registry)
    return mask if seen is None else mask & seen


def _why(match: Match, requirements: Sequence[str]) -> str:
    if match.covers:
        what = f"answers {len(match.covers)} of {len(requirements)} requirement(s)"
    else:
        what = f"relevant to the demand as a whole ({match.relevance:.2f})"
    terms = list(match.evidence.get("shared_terms", []))[:4]
    return what + (f"; shared terms: {', '.join(terms)}" if terms else "")


def _evidence(match: Match, institution: str, requirements: Sequence[str]) -> Evidence:
    return Evidence(technology=match.technology.id, title=match.technology.title, institution=institution,
                    relevance=match.relevance, requirements=tuple(requirements[j] for j in match.covers),
                    why=_why(match, requirements))


def _coverage(matches: Sequence[Match], n_req: int, floor: float) -> np.ndarray:
    cover = np.zeros(n_req)
    for m in matches:
        cover = np.maximum(cover, [c if c >= floor else 0.0 for c in m.coverage])
    return cover


def _score(matches: Sequence[Match], n_req: int, floor: float) -> tuple[float, float]:
    """(score, coverage) of a meeting showing ``matches``."""
    coverage = float(_coverage(matches, n_req, floor).mean()) if n_req else 0.0
    top = max((m.relevance for m in matches), default=0.0)
    return 0.5 * top + 0.5 * coverage, coverage


class _CompanyCandidates:
    """The candidates of one company (a few helpers sharing its matches)."""

    def __init__(self, company: str, matches: Sequence[Match], requirements: Sequence[str], floor: float,
                 owners: dict[str, tuple[str, ...]]) -> None:
        self.company, self.matches, self.reqs, self.floor, self.owners = company, matches, requirements, floor, owners
        self.coverage: dict[str, float] = {}

    def singles(self, institutions: Sequence[str]) -> list[Candidate]:
        out = []
        for name in institutions:
            own = [m for m in self.matches if name in self.owners[m.technology.id]][:MAX_TECHNOLOGIES]
            if not own:
                continue
            score, self.coverage[name] = _score(own, len(self.reqs), self.floor)
            out.append(Candidate(self.company, (name,), "single", tuple(m.technology.id for m in own), score,
                                 tuple(_evidence(m, name, self.reqs) for m in own)))
        return out

    def bundle(self, proposal: Proposal) -> Candidate | None:
        by_id = {m.technology.id: m for m in self.matches}
        members = [by_id[t] for t in proposal.members if t in by_id]
        if len(members) != len(proposal.members):
            return None
        institutions = sorted({o for m in members for o in self.owners[m.technology.id]})
        if not 2 <= len(institutions) <= 3:
            return None
        score, coverage = _score(members, len(self.reqs), self.floor)
        if coverage <= max((self.coverage.get(i, 0.0) for i in institutions), default=0.0) + 1e-9:
            return None  # no better than one of its institutions alone
        evidence = tuple(_evidence(m, self.owners[m.technology.id][0], self.reqs) for m in members)
        return Candidate(self.company, tuple(institutions), "bundle", tuple(proposal.members), score, evidence)


def build_candidates(event: Event, version: IndexVersion, *, viewer: Viewer = ORGANISER,
                     matcher: TableCachingMatcher | None = None) -> CandidateSet:
    """Candidate meetings of every company of ``event`` (institutions already canonical) over ``version``."""
    matcher = matcher or TableCachingMatcher(version)
    mask = _event_mask(event, version, viewer)
    names = [i.name for i in event.institutions]
    registry = version.registry
    owners = {t.id: tuple(n for n in names if registry.owns(t, n))
              for t, keep in zip(version.technologies, mask, strict=True) if keep}
    out: list[Candidate] = []
    recommended: dict[str, tuple[str, ...]] = {}
    for company in event.companies:
        result = matcher.match(company.demand, TOP_K, visible=mask)
        helper = _CompanyCandidates(company.name, result.matches, result.requirements, matcher.floor, owners)
        singles = helper.singles(names)
        bundles = matcher.bundles(company.demand, top_n=BUNDLES_PER_COMPANY, visible=mask).bundles
        found = [helper.bundle(p) for p in bundles if p.kind == "convergence"]
        seen: set[tuple[str, ...]] = set()
        unique = [b for b in found if b is not None and not (b.institutions in seen or seen.add(b.institutions))]
        out.extend(singles + unique)
        recommended[company.name] = tuple(c.institutions[0] for c in sorted(singles, key=lambda c: (-c.score,
                                                                                                     c.institutions)))
    return apply_requests(event, out, recommended)


def apply_requests(event: Event, candidates: Sequence[Candidate],
                   recommended: dict[str, tuple[str, ...]] | None = None) -> CandidateSet:
    """``avoid`` pairs removed, ``must`` pairs marked (or added with score 0 when the engine has no match);
    companies left without a candidate get :data:`NO_MATCH` as their note."""
    avoid = {(r.company, r.institution) for r in event.requests if r.kind == "avoid"}
    must = {(r.company, r.institution) for r in event.requests if r.kind == "must"}
    kept = [c for c in candidates if not any((c.company, i) in avoid for i in c.institutions)]
    kept = [replace(c, must=True) if any((c.company, i) in must for i in c.institutions) else c for c in kept]
    for company, institution in sorted(must - avoid):
        if not any(c.company == company and institution in c.institutions for c in kept):
            kept.append(Candidate(company, (institution,), "single", (), 0.0, (), must=True,
                                  note=f"requested by the organiser; no matching technology of {institution}"))
    notes = {c.name: NO_MATCH for c in event.companies if not any(k.company == c.name for k in kept)}
    order = {c.name: n for n, c in enumerate(event.companies)}
    kept.sort(key=lambda c: (order[c.company], c.kind != "single", c.institutions))
    return CandidateSet(tuple(kept), dict(recommended or {}), notes)
