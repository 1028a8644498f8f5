"""``/api/meetings/plans``: plan a matchmaking event, list and fetch stored plans, publish one.

* ``POST /api/meetings/plans`` (organisers and admins): the event is validated (422 naming the entry, e.g.
  ``event.companies[3].unavailable[0]``), its institutions resolved against the served index version, and
  solved (``matcher/meetings/schedule.py``) with what the caller may see — an admin every record, an
  organiser the public ones and, when its key is bound to an institution, that institution's confidential
  ones. ``pin`` re-plans from a stored plan, keeping its meetings in place where still feasible. The plan is
  stored as a draft (``matcher/state/plans.py``) and returned. The route is synchronous, so FastAPI runs it
  in a worker thread: a solve of up to ``time_limit`` seconds (at most ``MATCHER_PLAN_TIME_LIMIT``) never
  blocks the event loop.
* ``GET /api/meetings/plans`` and ``GET /api/meetings/plans/{id}``: organisers and admins see every plan
  whole; officers see published plans of events their institution is at, cut to their institution's
  meetings (``matcher/meetings/view.py``); another plan is a 404, as if absent.
* ``POST /api/meetings/plans/{id}/publish`` (organisers and admins): draft → published; the published plan
  it was pinned from becomes superseded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from matcher.access import Viewer
from matcher.errors import NotFoundError, ValidationError
from matcher.matching.tablecache import TableCachingMatcher
from matcher.meetings.event import parse_event, resolve_institutions
from matcher.meetings.plan import Plan
from matcher.meetings.schedule import plan_event
from matcher.meetings.solver import SolverSettings
from matcher.meetings.view import counts, plan_view, takes_part
from matcher.settings import env_name
from matcher.state import plans as plan_table
from service.deps import KeyIdDep, OrganiserDep, PacketsDep, SettingsDep, SnapshotDep, StateDep, ViewerDep
from service.meeting_schemas import MAX_PLAN_ID, PlanRequest, PlanSummary, StoredPlan
from service.routes.problems import API_ERRORS, ORGANISER_ERRORS, PLAN_NOT_FOUND
from service.state import Snapshot

router = APIRouter(prefix="/api/meetings", responses=API_ERRORS, tags=["meetings"])
PlanId = Annotated[int, Path(ge=1, le=MAX_PLAN_ID)]
#: media types of the packet answers (documented, since they have no JSON schema)
PDF, ICS, CSV = "application/pdf", "text/calendar; charset=utf-8", "text/csv; charset=utf-8"
BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


def _visible(snap: Snapshot, viewer: Viewer) -> Any:
    mask = snap.visible(viewer)
    version = snap.version

    def visible(tech_id: str) -> bool:
        if tech_id not in snap.by_id:
            return False
        return mask is None or bool(mask[version.position_of(tech_id)])

    return visible


def _answer(row: dict[str, Any], viewer: Viewer, snap: Snapshot, *, with_plan: bool) -> dict[str, Any]:
    view = plan_view(row["plan"], viewer, _visible(snap, viewer))
    out = {k: v for k, v in row.items() if k != "plan"}
    out["counts"] = counts(view)
    if not viewer.may_organise:
        out["created_by"] = None
    if with_plan:
        out["plan"] = view
    return out


def _may_read(row: dict[str, Any], viewer: Viewer) -> bool:
    return viewer.may_organise or (row["status"] == "published" and takes_part(row["plan"], viewer.institution))


def _event(body: PlanRequest, snap: Snapshot) -> Any:
    try:
        return resolve_institutions(parse_event(body.event), snap.version.registry)
    except ValidationError as exc:
        field = f"event.{exc.field}" if exc.field else "event"
        raise ValidationError(f"event.{exc}" if exc.field else f"event: {exc}", field=field) from None


@router.post("/plans", response_model=StoredPlan, responses=ORGANISER_ERRORS,
             summary="Plan an event's meetings (CP-SAT) and store the plan as a draft")
def create_plan(body: PlanRequest, viewer: OrganiserDep, key_id: KeyIdDep, snap: SnapshotDep, state: StateDep,
                settings: SettingsDep) -> dict[str, Any]:
    cap = settings.plan_time_limit
    if body.time_limit is not None and body.time_limit > cap:
        raise ValidationError(f"time_limit: {body.time_limit:g} s is over the limit of {cap:g} s "
                              f"({env_name('plan_time_limit')})", field="time_limit")
    event = _event(body, snap)
    pin = Plan.from_dict(plan_table.require(state, body.pin)["plan"]) if body.pin is not None else None
    matcher = snap.matcher if isinstance(snap.matcher, TableCachingMatcher) else None
    plan = plan_event(event, snap.version, settings=SolverSettings(time_limit=body.time_limit or cap),
                      pin=pin, viewer=viewer, matcher=matcher)
    row = plan_table.save(state, plan.to_dict(), created_by=key_id, pinned_from=body.pin)
    return _answer(row, viewer, snap, with_plan=True)


@router.get("/plans", response_model=list[PlanSummary],
            summary="Meeting plans, newest first (officers: published plans of their institution's events)")
def list_plans(viewer: ViewerDep, snap: SnapshotDep, state: StateDep) -> list[dict[str, Any]]:
    rows = plan_table.listing(state, with_plan=True)
    return [_answer(r, viewer, snap, with_plan=False) for r in rows if _may_read(r, viewer)]


@router.get("/plans/{plan_id}", response_model=StoredPlan, responses=PLAN_NOT_FOUND,
            summary="One meeting plan (officers: their institution's meetings only)")
def get_plan(plan_id: PlanId, viewer: ViewerDep, snap: SnapshotDep, state: StateDep) -> dict[str, Any]:
    return _answer(_readable(state, plan_id, viewer), viewer, snap, with_plan=True)


def _readable(state: Any, plan_id: int, viewer: Viewer) -> dict[str, Any]:
    row = plan_table.get(state, plan_id)
    if row is None or not _may_read(row, viewer):
        raise NotFoundError(f"no meeting plan with id {plan_id} for this key; list them with GET /api/meetings/plans")
    return row


def _view(state: Any, plan_id: int, viewer: Viewer, snap: Snapshot) -> dict[str, Any]:
    """The plan as ``viewer`` sees it (404 when it may not read it)."""
    return plan_view(_readable(state, plan_id, viewer)["plan"], viewer, _visible(snap, viewer))


def _attachment(name: str) -> dict[str, str]:
    from urllib.parse import quote

    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


@router.get("/plans/{plan_id}/grid.csv", response_class=Response, responses={
    **ORGANISER_ERRORS, **PLAN_NOT_FOUND, 200: {"content": {CSV: BINARY}, "description": "slots × tables (UTF-8, BOM)"}},
    summary="The organiser's slot × table grid of a plan, as CSV")
def plan_grid(plan_id: PlanId, viewer: OrganiserDep, snap: SnapshotDep, state: StateDep,
              packets: PacketsDep) -> Response:
    text = packets.grid(plan_id, _view(state, plan_id, viewer, snap))
    return Response(text.encode("utf-8"), media_type=CSV, headers=_attachment(f"plan-{plan_id}-grid.csv"))


@router.get("/plans/{plan_id}/meetings/{meeting_id}.pdf", response_class=Response, responses={
    **PLAN_NOT_FOUND, 200: {"content": {PDF: BINARY}, "description": "the meeting's briefing page"}},
    summary="A meeting's briefing packet (PDF; officers: their institution's meetings only)")
def meeting_pdf(plan_id: PlanId, meeting_id: Annotated[str, Path(pattern=r"^M\d{1,6}$")], viewer: ViewerDep,
                snap: SnapshotDep, state: StateDep, packets: PacketsDep) -> Response:
    view = _view(state, plan_id, viewer, snap)
    data = packets.meeting_pdf(snap.version, viewer, plan_id, view, meeting_id)
    return Response(data, media_type=PDF, headers=_attachment(f"plan-{plan_id}-{meeting_id}.pdf"))


@router.get("/plans/{plan_id}/agenda.ics", response_class=Response, responses={
    **PLAN_NOT_FOUND, 200: {"content": {ICS: BINARY}, "description": "the participant's meetings (iCalendar)"}},
    summary="A participant's agenda as a calendar (officers: their institution's meetings only)")
def agenda_ics(plan_id: PlanId, participant: Annotated[str, Query(min_length=1, max_length=300)],
               viewer: ViewerDep, snap: SnapshotDep, state: StateDep, packets: PacketsDep) -> Response:
    view = _view(state, plan_id, viewer, snap)
    data = packets.agenda_ics(snap.version, viewer, plan_id, view, participant)
    return Response(data, media_type=ICS, headers=_attachment(f"plan-{plan_id}-agenda.ics"))


@router.post("/plans/{plan_id}/publish", response_model=StoredPlan, responses={**ORGANISER_ERRORS, **PLAN_NOT_FOUND},
             summary="Publish a plan (officers then see their meetings); the plan it was pinned from is superseded")
def publish_plan(plan_id: PlanId, viewer: OrganiserDep, snap: SnapshotDep, state: StateDep) -> dict[str, Any]:
    return _answer(plan_table.publish(state, plan_id), viewer, snap, with_plan=True)
