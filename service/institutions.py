"""The institutions a caller may see, for the page's institution filter (``GET /api/institutions``).

Names are grouped by the index version's :class:`~matcher.institutions.InstitutionRegistry` (declared
institutions and their aliases, spacing, 산학협력단, English names), so each institution is reported once,
under the canonical name that filters and key bindings resolve to, with its other spellings as aliases
and the number of technologies of it that the caller may see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.institutions import InstitutionRegistry
from matcher.records import Technology


@dataclass(frozen=True)
class InstitutionCount:
    """One institution of the listing: canonical name, its other spellings, visible technologies."""

    name: str
    aliases: tuple[str, ...]
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "aliases": list(self.aliases), "count": self.count}


def institution_listing(technologies: Sequence[Technology], mask: np.ndarray | None,
                        registry: InstitutionRegistry) -> list[InstitutionCount]:
    """The institutions (name, aliases, count) over the technologies ``mask`` lets through (``None``: all),
    most technologies first; institutions without visible technologies are left out."""
    counts: Counter[str] = Counter()
    spellings: dict[str, set[str]] = {}
    for i, tech in enumerate(technologies):
        if mask is not None and not mask[i]:
            continue
        groups: dict[str, str] = {}
        for name in tech.institutions:
            if name.strip():
                groups.setdefault(registry.canonical(name) or name, name)
        for canonical, name in groups.items():
            counts[canonical] += 1
            spellings.setdefault(canonical, set()).add(name)
    out = []
    for name, count in counts.items():
        declared = registry.declared.get(name)
        aliases = (set(declared.aliases) if declared else set()) | spellings[name]
        out.append(InstitutionCount(name=name, aliases=tuple(sorted(aliases - {name})), count=count))
    out.sort(key=lambda r: (-r.count, r.name))
    return out
