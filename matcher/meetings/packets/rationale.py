"""Why license: a short, honest rationale for a meeting, from what the index holds.

First the licensee ranker (``matcher/licensing/ranker.py``) is asked which companies fit the meeting's
technologies (one technology, or the bundle as a whole) as the viewer sees them. When the meeting's company
is among its candidates, the rationale is that: its rank, the signals that put it there and the evidence
(its own patents close to the technology, joint applications with the owner, past demands, industry
profile). When it is not — a company without patents in the data, or none close — the rationale says so,
and rests on the demand alone: how many of its requirements the technologies cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.companies.names import company_key
from matcher.errors import MatcherError
from matcher.licensing import LicenseeRanker
from matcher.meetings.packets.coverage import Coverage

#: how many licensee candidates the ranker is asked for (the company is looked for among them)
RANKED = 50


@dataclass(frozen=True)
class Rationale:
    """``source``: ``"licensee_ranker"`` (the company is a ranked candidate) or ``"coverage"``."""

    source: str
    summary: str
    rank: int | None = None
    candidates: int = 0
    signals: dict[str, float] = field(default_factory=dict)
    evidence: tuple[dict[str, Any], ...] = ()


def _coverage_line(company: str, coverage: Coverage, bundle: bool) -> str:
    n = len(coverage.requirements)
    what = "the bundle" if bundle else "the technology"
    if n == 0:
        return f"{what} was proposed for {company}'s demand"
    line = f"{what} covers {coverage.covered} of {n} requirements of {company}'s demand"
    if coverage.gaps:
        line += f" ({len(coverage.gaps)} left as gaps, below relevance {coverage.floor:.2f})"
    return line


class RationaleMaker:
    """Rationales for meetings of one index version and one viewer; the ranker's answers are cached per
    set of technologies."""

    def __init__(self, ranker: LicenseeRanker, visible: np.ndarray | None = None) -> None:
        self.ranker = ranker
        self.visible = visible
        self._ranked: dict[tuple[str, ...], tuple[list[Any], str | None]] = {}

    def _candidates(self, ids: tuple[str, ...]) -> tuple[list[Any], str | None]:
        if ids not in self._ranked:
            try:
                found = self.ranker.rank(members=list(ids), top_k=RANKED, visible=self.visible,
                                         include_inactive=True)
                self._ranked[ids] = (list(found), None)
            except MatcherError as exc:  # e.g. a record the ranker refuses: say why, rank nothing
                self._ranked[ids] = ([], str(exc))
        return self._ranked[ids]

    def make(self, company: str, technologies: Sequence[str], coverage: Coverage, bundle: bool) -> Rationale:
        ids = tuple(sorted(technologies))
        basis = _coverage_line(company, coverage, bundle)
        if not ids:
            return Rationale("coverage", "no technology of this meeting is visible here; " + basis)
        candidates, problem = self._candidates(ids)
        key = company_key(company)
        for rank, cand in enumerate(candidates, 1):
            if cand.org.key == key:
                strong = [name for name, value in sorted(cand.signals.items(), key=lambda kv: -kv[1]) if value > 0]
                because = ", ".join(strong) or "topical fit"
                summary = (f"{company} ranks #{rank} of {len(candidates)} licensee candidates for "
                           f"{'this bundle' if bundle else 'this technology'} (signals: {because}); {basis}")
                return Rationale("licensee_ranker", summary, rank=rank, candidates=len(candidates),
                                 signals=dict(cand.signals), evidence=tuple(cand.evidence))
        if problem:
            return Rationale("coverage", f"no licensee ranking ({problem}); {basis}")
        return Rationale("coverage", f"{company}'s own patents and profile in the data show no close fit "
                                     f"with {'these technologies' if bundle else 'this technology'}; "
                                     f"the case rests on its demand: {basis}", candidates=len(candidates))
