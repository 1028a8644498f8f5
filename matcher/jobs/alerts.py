"""Alerts for saved demands when a new index version is published, and the demands' overlap for the
nightly gate.

For each saved demand, its top k in the new version is compared with its top k in the previous one; a
technology in the new top k and not in the previous one is an alert — recorded once per (demand,
technology), however often it leaves and re-enters later. The first version ever published
(``previous`` is ``None``) is a baseline: nothing alerts. A demand saved between two versions is compared
the same way (its top k in the previous version is computed then), so it alerts only for what the new
version brings, never for what was already there when it was saved.

Confidentiality holds as in ``matcher/access.py``: a demand is matched as an officer of its institution
(``None``: an officer bound to none, who sees public records only — admins' demands included, so an
alert never names a record its owner may not see); live records only, as ``match`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from matcher.access import Viewer, visible_mask
from matcher.errors import MatcherError
from matcher.matching.demand import DemandMatcher, Match
from matcher.records import DemandProfile
from matcher.state import alerts as alert_table
from matcher.state import demands as demand_table
from matcher.state.store import StateStore
from matcher.store.versions import IndexVersion

log = logging.getLogger("matcher.jobs")


def viewer_of(demand: dict[str, Any]) -> Viewer:
    """Whom a saved demand is matched as: an officer of its institution (``None``: of none)."""
    return Viewer("officer", demand.get("institution"))


def profile_of(demand: dict[str, Any]) -> DemandProfile:
    return DemandProfile(text=demand.get("text") or "", requirements=tuple(demand.get("requirements") or ()),
                         filters=dict(demand.get("filters") or {}))


@dataclass
class VersionMatcher:
    """One index version's matcher, with the visibility mask of each viewer computed once."""

    version: IndexVersion

    def __post_init__(self) -> None:
        self.matcher = DemandMatcher(self.version)
        self._masks: dict[Viewer, Any] = {}

    def top(self, demand: dict[str, Any], top_k: int) -> list[Match]:
        viewer = viewer_of(demand)
        if viewer not in self._masks:
            self._masks[viewer] = visible_mask(self.version.technologies, viewer, self.version.registry)
        return self.matcher.match(profile_of(demand), top_k, visible=self._masks[viewer]).matches


def _top_or_none(matcher: VersionMatcher, demand: dict[str, Any], top_k: int) -> list[Match] | None:
    try:
        return matcher.top(demand, top_k)
    except MatcherError as exc:  # e.g. a filter naming an institution this version no longer has
        log.warning("saved demand %s skipped in index version %s: %s", demand["id"], matcher.version.name, exc)
        return None


def _alert_row(demand: dict[str, Any], match: Match, version: str, top_k: int) -> dict[str, Any]:
    tech = match.technology
    evidence = {"title": tech.title, "title_en": tech.title_en, "institutions": list(tech.institutions or tech.applicants),
                "relevance": round(match.relevance, 3), "covers": match.covers,
                "best_sentence": match.evidence.get("best_sentence", ""),
                "shared_terms": match.evidence.get("shared_terms", [])}
    return {"demand_id": demand["id"], "technology_id": tech.id, "version": version,
            "score": round(match.relevance, 3), "evidence": evidence,
            "message": f"{tech.title} entered the top {top_k} of saved demand {demand['id']} ({demand['title']})"}


def alerts_for_version(store: StateStore, previous: IndexVersion | None, current: IndexVersion, *,
                       top_k: int) -> list[dict[str, Any]]:
    """Record the alerts of every saved demand for ``current`` (see the module's docstring); the alerts
    recorded now (public rows of ``state/alerts.py`` with the demand's ``owner``, ``institution`` and
    ``demand_title``), in demand order. Nothing is recorded when ``previous`` is ``None`` (the baseline)."""
    if previous is None:
        log.info("index version %s is the first: the saved demands' baseline, no alerts", current.name)
        return []
    saved = demand_table.listing(store, every=True)
    now, before = VersionMatcher(current), VersionMatcher(previous)
    rows: list[dict[str, Any]] = []
    for demand in saved:
        fresh = _top_or_none(now, demand, top_k)
        if not fresh:
            continue
        old = _top_or_none(before, demand, top_k) or []
        known = {m.technology.id for m in old}
        rows.extend(_alert_row(demand, m, current.name, top_k) for m in fresh if m.technology.id not in known)
    inserted = alert_table.insert_demand_alerts(store, rows)
    by_id = {d["id"]: d for d in saved}
    for row in inserted:
        demand = by_id[row["demand"]]
        row.update(owner=demand["owner"], institution=demand["institution"], demand_title=demand["title"])
    log.info("index version %s: %d new alert(s) for %d saved demand(s)", current.name, len(inserted), len(saved))
    return inserted


def demand_overlaps(store: StateStore, previous: IndexVersion | None, staged: IndexVersion,
                    top_k: int = 10) -> dict[int, float]:
    """For each saved demand, the share of its top ``top_k`` in ``previous`` still in its top ``top_k`` in
    ``staged`` (1.0 when the previous top was empty; no entries without a previous version)."""
    if previous is None:
        return {}
    now, before = VersionMatcher(staged), VersionMatcher(previous)
    out: dict[int, float] = {}
    for demand in demand_table.listing(store, every=True):
        old = _top_or_none(before, demand, top_k)
        new = _top_or_none(now, demand, top_k)
        if old is None or new is None:
            continue
        old_ids = {m.technology.id for m in old}
        kept = old_ids & {m.technology.id for m in new}
        out[demand["id"]] = round(len(kept) / len(old_ids), 4) if old_ids else 1.0
    return out


def owners(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Alerts grouped by their demand's owner (``""``: no owner given), in order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.get("owner") or "", []).append(row)
    return grouped
