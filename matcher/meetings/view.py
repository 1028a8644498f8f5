"""A plan as one viewer may see it (the JSON of ``Plan.to_dict()``, filtered; the plan itself is not changed).

* Organisers and admins (``Viewer.may_organise``) see every meeting, every unscheduled entry and the whole
  event.
* An officer sees the meetings its institution takes part in — nothing else of the schedule: the event's
  companies are cut to the companies of those meetings (and of must-requests naming the institution that
  could not be met), its institutions to the institutions at those meetings plus its own, its requests and
  ``unscheduled`` to those naming its institution, ``changes`` to its meetings. No other meeting's company
  is named anywhere. An officer bound to no institution sees no meetings. The objective and solver figures
  are totals (no names) and are kept.
* Technologies: everyone but an admin sees only the technologies ``visible(id)`` lets through (what the
  viewer may see in the index version served now): a meeting's ``technologies`` and ``evidence`` are cut
  to those. An id the served version no longer holds is left out too (it cannot be checked).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from matcher.access import Viewer

#: ``scope`` of a view: the whole plan, or one institution's part of it
ALL, INSTITUTION = "all", "institution"


def _technologies(meeting: Mapping[str, Any], visible: Callable[[str], bool]) -> dict[str, Any]:
    return {**meeting, "technologies": [t for t in meeting.get("technologies", ()) if visible(t)],
            "evidence": [e for e in meeting.get("evidence", ()) if visible(str(e.get("technology", "")))]}


def plan_view(plan: Mapping[str, Any], viewer: Viewer, visible: Callable[[str], bool]) -> dict[str, Any]:
    """``plan`` (``Plan.to_dict()``) as ``viewer`` may see it; ``visible`` says whether a technology id may be
    shown to ``viewer`` (ignored for admins)."""
    def shown(tech_id: str) -> bool:
        return viewer.is_admin or visible(tech_id)

    if viewer.may_organise:
        return {**plan, "meetings": [_technologies(m, shown) for m in plan["meetings"]], "scope": ALL}
    mine = viewer.institution
    meetings = [_technologies(m, shown) for m in plan["meetings"] if mine is not None and mine in m["institutions"]]
    unscheduled = [u for u in plan.get("unscheduled", ()) if mine is not None and u.get("institution") == mine]
    companies = {m["company"] for m in meetings} | {u["company"] for u in unscheduled}
    institutions = {i for m in meetings for i in m["institutions"]} | ({mine} if mine else set())
    event = plan["event"]
    return {
        **plan,
        "event": {**event, "companies": [c for c in event["companies"] if c["name"] in companies],
                  "institutions": [i for i in event["institutions"] if i["name"] in institutions],
                  "requests": [r for r in event.get("requests", ())
                               if r["institution"] == mine and r["company"] in companies]},
        "meetings": meetings,
        "unscheduled": unscheduled,
        "changes": [c for c in plan.get("changes", ()) if mine is not None and mine in c["institutions"]],
        "scope": INSTITUTION,
    }


def takes_part(plan: Mapping[str, Any], institution: str | None) -> bool:
    """Is ``institution`` (canonical) one of the plan's event institutions?"""
    return institution is not None and any(i["name"] == institution for i in plan["event"]["institutions"])


def counts(plan: Mapping[str, Any]) -> dict[str, int]:
    """``meetings``, ``companies`` (with ≥ 1 meeting), ``unscheduled``, ``bundles`` of a (viewed) plan."""
    meetings = plan["meetings"]
    return {"meetings": len(meetings), "companies": len({m["company"] for m in meetings}),
            "unscheduled": len(plan.get("unscheduled", ())),
            "bundles": sum(1 for m in meetings if m.get("kind") == "bundle")}
