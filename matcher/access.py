"""Who may see what: viewers (an API key's role and institution) and confidential technologies.

A technology marked ``confidential`` is visible only to viewers bound to one of its institutions (or
applicants) and to admins. An ``organiser`` reads like an officer (public records, and its own
institution's confidential ones when bound to one) and may also plan matchmaking events and see every
meeting of their plans (``may_organise``); an admin may do everything an organiser may. Everything a viewer receives — search hits, matches, bundles, groups, counts —
is computed over the technologies :func:`visible_mask` lets through, never filtered after the fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.errors import ConfigError
from matcher.institutions import InstitutionRegistry
from matcher.records import Technology

ROLES = ("officer", "organiser", "admin")
#: roles that may plan meetings and see every meeting of a plan
ORGANISING_ROLES = ("organiser", "admin")


@dataclass(frozen=True)
class Viewer:
    """The caller: ``role`` (``officer`` reads, ``organiser`` also plans meetings, ``admin`` also manages
    keys and reloads) and the institution its key is bound to (``None``: bound to none)."""

    role: str
    institution: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(f"unknown role {self.role!r}; valid roles: {', '.join(ROLES)}")
        if self.institution is not None and not self.institution.strip():
            raise ConfigError("the institution of a key must be a non-empty name (or none)")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def may_organise(self) -> bool:
        """May plan meetings, publish plans and see every meeting of a plan (organisers and admins)."""
        return self.role in ORGANISING_ROLES


def can_see(viewer: Viewer, tech: Technology, registry: InstitutionRegistry | None = None) -> bool:
    """Admins see everything; a confidential technology is otherwise visible only to its institutions.

    With a ``registry`` the key's institution matches the technology's by any spelling (aliases, spacing,
    산학협력단, English names); without one, by exact text."""
    if not tech.confidential or viewer.is_admin:
        return True
    if viewer.institution is None:
        return False
    if registry is not None:
        canonical = registry.canonical(viewer.institution)
        return canonical is not None and registry.owns(tech, canonical)
    return viewer.institution in tech.institutions or viewer.institution in tech.applicants


def visible_mask(technologies: Sequence[Technology], viewer: Viewer,
                 registry: InstitutionRegistry | None = None) -> np.ndarray | None:
    """Boolean mask by position of what ``viewer`` may see, or ``None`` when everything is visible."""
    if viewer.is_admin or not any(t.confidential for t in technologies):
        return None
    mask = np.fromiter((can_see(viewer, t, registry) for t in technologies), dtype=bool, count=len(technologies))
    return None if bool(mask.all()) else mask


@dataclass(frozen=True)
class VisibleGroup:
    """A patent group as one viewer sees it: only the members it may see, and ``size``, ``institutions``
    and ``convergence`` computed over them (never the centroid)."""

    id: str
    label: str
    terms: tuple[str, ...]
    members: tuple[str, ...]
    institutions: tuple[str, ...]
    size: int
    convergence: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "terms": list(self.terms), "members": list(self.members),
                "institutions": list(self.institutions), "size": self.size, "convergence": self.convergence}


def visible_groups(groups: Iterable[Mapping[str, Any]], technologies: Mapping[str, Technology],
                   viewer: Viewer, min_institutions: int = 2,
                   registry: InstitutionRegistry | None = None) -> list[VisibleGroup]:
    """Groups (``Group.to_dict()`` rows) restricted to the members ``viewer`` may see.

    Members that are invisible (or unknown) are removed; ``size``, ``institutions`` and ``convergence``
    are recomputed from the visible members; groups left empty are dropped; the centroid (a mean over
    all members) is never returned.
    """
    out = []
    for group in groups:
        members = [m for m in group["members"] if m in technologies and can_see(viewer, technologies[m], registry)]
        if not members:
            continue
        insts = sorted({s for m in members for s in technologies[m].institutions if s})
        out.append(VisibleGroup(id=group["id"], label=group.get("label", ""), terms=tuple(group.get("terms", ())),
                                members=tuple(members), institutions=tuple(insts), size=len(members),
                                convergence=len(insts) >= min_institutions))
    return out
