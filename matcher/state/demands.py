"""The ``saved_demands`` table: save, list, get, delete. Rows come back as dicts for people and JSON
(:func:`public`): ``id``, ``owner``, ``institution``, ``title``, ``text``, ``requirements``, ``filters``,
``created`` (ISO 8601).

``institution`` (canonical, ``None`` for an admin's demand) is the institution whose confidential records
the demand may be matched against; the caller checks it (this table stores what it is given).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, select

from matcher.errors import NotFoundError, ValidationError
from matcher.state.schema import saved_demands
from matcher.state.store import StateStore
from matcher.state.times import iso, utcnow

#: the longest owner (a name or an e-mail address)
OWNER_CHARS = 300
#: characters of the demand kept as its title (for lists and digests)
TITLE_CHARS = 120


def title_of(text: str, requirements: list[str]) -> str:
    """A one-line title: the text's start, else the requirements joined."""
    whole = " ".join((text or " · ".join(requirements)).split())
    return whole if len(whole) <= TITLE_CHARS else whole[:TITLE_CHARS - 1] + "…"


def public(row: dict[str, Any] | Row[Any]) -> dict[str, Any]:
    data = dict(row._mapping) if isinstance(row, Row) else dict(row)
    demand = data.get("demand") or {}
    return {"id": data["id"], "owner": data.get("owner"), "institution": data.get("institution"),
            "title": data["title"], "text": demand.get("text") or "",
            "requirements": list(demand.get("requirements") or []), "filters": dict(data.get("filters") or {}),
            "created": iso(data.get("created"))}


def save(store: StateStore, *, text: str, requirements: list[str] | None = None,
         filters: dict[str, Any] | None = None, owner: str | None = None, institution: str | None = None,
         key_id: str | None = None) -> dict[str, Any]:
    """Insert a saved demand; its public row (with the new ``id``)."""
    if owner is not None:
        owner = owner.strip() or None
        if owner is not None and (len(owner) > OWNER_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in owner)):
            raise ValidationError(f"owner {owner[:40]!r}: give a name or an e-mail address of at most {OWNER_CHARS} "
                                  "characters, without control characters", field="owner")
    reqs = list(requirements or [])
    row = {"key_id": key_id, "institution": institution, "owner": owner, "title": title_of(text, reqs),
           "demand": {"text": text or "", "requirements": reqs}, "filters": dict(filters or {}), "created": utcnow()}
    with store.writing() as conn:
        new_id = conn.execute(saved_demands.insert().values(**row).returning(saved_demands.c.id)).scalar_one()
    return public({**row, "id": int(new_id)})


def listing(store: StateStore, institution: str | None = None, *, every: bool = False) -> list[dict[str, Any]]:
    """Saved demands, oldest first: every one (``every``), else those bound to ``institution`` (``None``:
    those bound to none)."""
    query = select(saved_demands).order_by(saved_demands.c.id)
    if not every:
        query = query.where(saved_demands.c.institution.is_(None) if institution is None
                            else saved_demands.c.institution == institution)
    with store.reading() as conn:
        return [public(r) for r in conn.execute(query).all()]


def get(store: StateStore, demand_id: int) -> dict[str, Any] | None:
    with store.reading() as conn:
        row = conn.execute(select(saved_demands).where(saved_demands.c.id == demand_id)).first()
    return public(row) if row is not None else None


def delete_demand(store: StateStore, demand_id: int, institution: str | None = None, *,
                  every: bool = False) -> dict[str, Any]:
    """Delete a saved demand (and its alerts) visible to the caller (``every``: any; else one bound to
    ``institution``); a :class:`NotFoundError` naming the id otherwise (another institution's demand is
    reported the same way as a missing one)."""
    row = get(store, demand_id)
    if row is None or (not every and row["institution"] != institution):
        raise NotFoundError(f"no saved demand with id {demand_id!r}; list yours with 'matcher demands list' "
                            "or GET /api/demands")
    with store.writing() as conn:
        conn.execute(delete(saved_demands).where(saved_demands.c.id == demand_id))
    return row
