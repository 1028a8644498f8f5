"""The ``alerts`` table: demand alerts (a technology entering a saved demand's top k, once per demand and
technology) and admin alerts (a refused nightly run). Rows come back as dicts (:func:`public`) with ISO
8601 times, newest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError

from matcher.state.schema import alerts, saved_demands
from matcher.state.store import StateStore
from matcher.state.times import iso, utcnow

KINDS = ("demand", "admin")


def public(row: dict[str, Any] | Row[Any]) -> dict[str, Any]:
    data = dict(row._mapping) if isinstance(row, Row) else dict(row)
    out = {"id": data["id"], "kind": data["kind"], "demand": data.get("demand_id"),
           "technology": data.get("technology_id"), "version": data.get("version"), "score": data.get("score"),
           "evidence": data.get("evidence") or {}, "message": data.get("message"), "created": iso(data.get("created"))}
    if "owner" in data:  # joined with the demand
        out.update(owner=data.get("owner"), institution=data.get("institution"), demand_title=data.get("title"))
    return out


def insert_demand_alerts(store: StateStore, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert demand alerts (``demand_id``, ``technology_id``, ``version``, ``score``, ``evidence``,
    ``message``), each in its own savepoint so that one already recorded for its (demand, technology) is
    skipped; the rows actually inserted (public form, with their ids)."""
    inserted: list[dict[str, Any]] = []
    now = utcnow()
    with store.writing() as conn:
        for row in rows:
            values = {**row, "kind": "demand", "created": now}
            try:
                with conn.begin_nested():
                    new_id = conn.execute(alerts.insert().values(**values).returning(alerts.c.id)).scalar_one()
            except IntegrityError:  # already alerted for this (demand, technology), or the demand is gone
                continue
            inserted.append(public({**values, "id": int(new_id)}))
    return inserted


def insert_admin_alert(store: StateStore, message: str, evidence: dict[str, Any],
                       version: str | None = None) -> dict[str, Any]:
    values = {"kind": "admin", "message": message, "evidence": evidence, "version": version, "created": utcnow()}
    with store.writing() as conn:
        new_id = conn.execute(alerts.insert().values(**values).returning(alerts.c.id)).scalar_one()
    return public({**values, "id": int(new_id)})


def alerted_technologies(store: StateStore, demand_id: int) -> set[str]:
    """The technologies a demand was already alerted about."""
    with store.reading() as conn:
        return set(conn.execute(select(alerts.c.technology_id).where(alerts.c.demand_id == demand_id)).scalars())


def listing(store: StateStore, *, institution: str | None = None, every: bool = False, since: str | None = None,
            kind: str = "demand") -> list[dict[str, Any]]:
    """Alerts of ``kind``, newest first. Demand alerts are those of demands bound to ``institution`` (every
    demand's with ``every``); ``since``: only those of index versions after that one (names sort in time)."""
    if kind == "admin":
        query = select(alerts).where(alerts.c.kind == "admin")
    else:
        query = (select(alerts, saved_demands.c.owner, saved_demands.c.institution, saved_demands.c.title)
                 .join(saved_demands, saved_demands.c.id == alerts.c.demand_id).where(alerts.c.kind == "demand"))
        if not every:
            query = query.where(saved_demands.c.institution.is_(None) if institution is None
                                else saved_demands.c.institution == institution)
    if since:
        query = query.where(alerts.c.version > since)
    query = query.order_by(alerts.c.created.desc(), alerts.c.id.desc())
    with store.reading() as conn:
        return [public(r) for r in conn.execute(query).all()]
