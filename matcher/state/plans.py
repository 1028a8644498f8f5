"""The ``meeting_plans`` table: save, get, list, publish. A plan is stored whole, as the JSON text of
``Plan.to_dict()`` (``matcher/meetings/plan.py``), with what a listing needs beside it: the event's name
and date, the index version it was solved over, who made it (a key id) and when, its status and the plan
it was pinned from.

Status: ``draft`` when saved; ``published`` by :func:`publish` (``published``: when); a published plan
becomes ``superseded`` when a plan pinned from it is published (the re-plan replaces it). Who may read
or publish which plan is the caller's business (this table stores what it is given).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, select, update

from matcher.errors import NotFoundError
from matcher.state.schema import meeting_plans
from matcher.state.store import StateStore
from matcher.state.times import iso, utcnow

STATUSES = ("draft", "published", "superseded")
#: characters of the event's name kept in the listing column (the plan JSON keeps it whole)
NAME_CHARS = 300


def _row(row: Row[Any], *, with_plan: bool) -> dict[str, Any]:
    data = dict(row._mapping)
    out = {"id": int(data["id"]), "name": data["name"], "date": data["event_date"],
           "index_version": data["index_version"], "created": iso(data["created"]), "created_by": data["created_by"],
           "status": data["status"], "published": iso(data["published"]), "pinned_from": data["pinned_from"]}
    if with_plan:
        out["plan"] = json.loads(data["plan"])
    return out


def _missing(plan_id: int) -> NotFoundError:
    return NotFoundError(f"no meeting plan with id {plan_id!r}; list them with GET /api/meetings/plans")


def save(store: StateStore, plan: dict[str, Any], *, created_by: str | None = None,
         pinned_from: int | None = None) -> dict[str, Any]:
    """Store ``plan`` (``Plan.to_dict()``) as a draft; its row (with the new ``id`` and the plan)."""
    event = plan["event"]
    values = {"name": str(event["name"])[:NAME_CHARS], "event_date": str(event["date"]),
              "index_version": str(plan["index_version"]), "created": utcnow(), "created_by": created_by,
              "plan": json.dumps(plan, ensure_ascii=False), "status": "draft", "published": None,
              "pinned_from": pinned_from}
    with store.writing() as conn:
        new_id = conn.execute(meeting_plans.insert().values(**values).returning(meeting_plans.c.id)).scalar_one()
    found = get(store, int(new_id))
    assert found is not None
    return found


def get(store: StateStore, plan_id: int) -> dict[str, Any] | None:
    """One plan's row with its ``plan`` (a dict), or ``None``."""
    with store.reading() as conn:
        row = conn.execute(select(meeting_plans).where(meeting_plans.c.id == plan_id)).first()
    return None if row is None else _row(row, with_plan=True)


def require(store: StateStore, plan_id: int) -> dict[str, Any]:
    """:func:`get`, or a :class:`NotFoundError` naming the id."""
    found = get(store, plan_id)
    if found is None:
        raise _missing(plan_id)
    return found


def listing(store: StateStore, *, statuses: tuple[str, ...] = STATUSES,
            with_plan: bool = False) -> list[dict[str, Any]]:
    """Plans of the given statuses, newest first (``with_plan``: each with its ``plan``)."""
    query = select(meeting_plans).where(meeting_plans.c.status.in_(statuses)).order_by(meeting_plans.c.id.desc())
    with store.reading() as conn:
        return [_row(r, with_plan=with_plan) for r in conn.execute(query).all()]


def publish(store: StateStore, plan_id: int) -> dict[str, Any]:
    """Mark the plan published (publishing again changes nothing); the published plan it was pinned from,
    if any, becomes ``superseded``. Its row, with the plan."""
    with store.writing() as conn:
        row = conn.execute(select(meeting_plans.c.status, meeting_plans.c.pinned_from)
                           .where(meeting_plans.c.id == plan_id)).first()
        if row is None:
            raise _missing(plan_id)
        if row.status != "published":
            conn.execute(update(meeting_plans).where(meeting_plans.c.id == plan_id)
                         .values(status="published", published=utcnow()))
            if row.pinned_from is not None:
                conn.execute(update(meeting_plans).where(meeting_plans.c.id == row.pinned_from,
                                                         meeting_plans.c.status == "published")
                             .values(status="superseded"))
    return require(store, plan_id)
