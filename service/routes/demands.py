"""``/api/demands`` (save, list, delete the caller's saved demands) and ``/api/alerts`` (their alerts).

A demand is bound to the caller's institution (the key's; an admin's or an unbound officer's: none) and
matched as an officer of it when alerts are computed (``matcher/jobs/alerts.py``), so its alerts never
name a record the caller may not see. Officers see and delete only their institution's demands (another
one's is a 404, like a missing one); admins see and delete every demand.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from matcher.access import Viewer
from matcher.matching.demand import filter_predicate
from matcher.state import alerts as alert_table
from matcher.state import demands as demand_table
from service.demand_schemas import AlertRow, SavedDemand, SavedDemandId, SavedDemandRequest
from service.deps import SnapshotDep, StateDep, ViewerDep
from service.routes.problems import API_ERRORS

#: the largest id a saved demand can have (a 32-bit integer: SQLite and PostgreSQL alike)
MAX_ID = 2**31 - 1

router = APIRouter(prefix="/api", responses=API_ERRORS, tags=["saved demands"])


def _scope(viewer: Viewer) -> dict[str, Any]:
    return {"every": True} if viewer.is_admin else {"institution": viewer.institution}


@router.post("/demands", response_model=SavedDemandId,
             summary="Save a demand: re-matched on every new index version, alerting new matches")
def save_demand(body: SavedDemandRequest, viewer: ViewerDep, snap: SnapshotDep, state: StateDep) -> dict[str, Any]:
    filters = body.filter_dict()
    filter_predicate(dict(filters), snap.version.registry)  # unknown institutions refused, naming the known
    institution = None if viewer.is_admin else viewer.institution
    row = demand_table.save(state, text=body.text or "", requirements=list(body.requirements or []),
                            filters=filters, owner=body.owner, institution=institution)
    return {"id": row["id"]}


@router.get("/demands", response_model=list[SavedDemand], summary="The caller's saved demands, oldest first")
def list_demands(viewer: ViewerDep, state: StateDep) -> list[dict[str, Any]]:
    return demand_table.listing(state, **_scope(viewer))


@router.delete("/demands/{demand_id}", response_model=SavedDemand,
               summary="Delete one of the caller's saved demands, and its alerts")
def delete_demand(demand_id: Annotated[int, Path(ge=1, le=MAX_ID)], viewer: ViewerDep, state: StateDep) -> dict[str, Any]:
    return demand_table.delete_demand(state, demand_id, **_scope(viewer))


@router.get("/alerts", response_model=list[AlertRow], summary="Alerts of the caller's saved demands, newest first")
def list_alerts(viewer: ViewerDep, state: StateDep,
                since: Annotated[str | None, Query(max_length=100, description="only alerts of index versions "
                                                   "after this one (version names sort in time)")] = None
                ) -> list[dict[str, Any]]:
    rows = alert_table.listing(state, since=since or None, **_scope(viewer))
    out = []
    for row in rows:
        ev = row.get("evidence") or {}
        out.append({**row, "title": ev.get("title"), "institutions": list(ev.get("institutions") or []),
                    "best_sentence": ev.get("best_sentence")})
    return out
