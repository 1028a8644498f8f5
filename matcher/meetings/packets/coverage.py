"""Coverage of a meeting: per requirement of the company's demand, which of the meeting's technologies
answers it best and how well (calibrated relevance), recomputed with the matching engine.

The requirements are the demand's own list, else :func:`~matcher.matching.facets.split_requirements` of
its text (``DemandMatcher.requirements``). The meeting's technologies are scored with
``DemandMatcher.score_technologies`` — the same numbers ``matcher match`` and ``matcher bundles`` show. A
requirement whose best relevance is below the floor is a **gap**. Technologies the viewer may not see are
never scored, never named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher.matching.demand import DemandMatcher
from matcher.records import DemandProfile, Technology


@dataclass(frozen=True)
class RequirementRow:
    """One requirement: its best technology among the meeting's (``None``: nothing scored) and relevance."""

    index: int
    text: str
    technology: str | None
    relevance: float
    covered: bool


@dataclass(frozen=True)
class TechnologyFit:
    """One technology of the meeting: its relevance to the whole demand and to each requirement."""

    technology: Technology
    relevance: float
    per_requirement: tuple[float, ...]
    covers: tuple[int, ...]


@dataclass(frozen=True)
class Coverage:
    requirements: tuple[RequirementRow, ...]
    technologies: tuple[TechnologyFit, ...]
    floor: float

    @property
    def gaps(self) -> list[RequirementRow]:
        return [r for r in self.requirements if not r.covered]

    @property
    def covered(self) -> int:
        return sum(r.covered for r in self.requirements)


def meeting_coverage(matcher: DemandMatcher, demand: DemandProfile, positions: Sequence[int],
                     visible: np.ndarray | None = None) -> Coverage:
    """Coverage of ``demand`` by the technologies at ``positions`` (those ``visible`` hides left out)."""
    table = matcher.score_technologies(demand, list(positions), visible=visible)  # match's statistics
    reqs = table.requirements
    techs = matcher.version.technologies
    floor = matcher.floor
    rows = []
    for j, text in enumerate(reqs):
        if table.positions:
            best = int(np.argmax(table.relevance[:, j]))
            rel = float(table.relevance[best, j])
            rows.append(RequirementRow(j, text, techs[table.positions[best]].id, rel, rel >= floor))
        else:
            rows.append(RequirementRow(j, text, None, 0.0, False))
    fits = []
    for i, pos in enumerate(table.positions):
        per = tuple(float(x) for x in table.relevance[i])
        whole = float(table.whole_relevance[i])
        overall = max(whole, max(per, default=0.0)) if len(reqs) > 1 else max(per, default=whole)
        fits.append(TechnologyFit(techs[pos], overall, per, tuple(j for j, x in enumerate(per) if x >= floor)))
    fits.sort(key=lambda f: (-f.relevance, f.technology.id))
    return Coverage(tuple(rows), tuple(fits), floor)
