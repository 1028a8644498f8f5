"""The ``api_keys`` table: insert, look up by secret hash, list, revoke, touch. Rows come back as dicts
with ISO 8601 times and without the hash (:func:`public`), except :func:`by_hash`, which the check needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from matcher.state.schema import api_keys
from matcher.state.store import StateStore
from matcher.state.times import as_utc, iso

#: listed and returned fields, in order (``secret_hash`` is never among them)
PUBLIC_FIELDS = ("id", "role", "institution", "label", "created", "expires", "revoked", "last_used")
TIMES = ("created", "expires", "revoked", "last_used")


def status(row: dict[str, Any], now: datetime) -> str:
    """``revoked``, ``expired`` or ``active`` (times as datetimes)."""
    if row.get("revoked") is not None:
        return "revoked"
    if row.get("expires") is not None and as_utc(row["expires"]) <= now:
        return "expired"
    return "active"


def public(row: dict[str, Any] | Row[Any], now: datetime) -> dict[str, Any]:
    """The row for people and JSON: no hash, ISO times, and its ``status``."""
    data = dict(row._mapping) if isinstance(row, Row) else dict(row)
    out = {k: (iso(data.get(k)) if k in TIMES else data.get(k)) for k in PUBLIC_FIELDS}
    out["status"] = status(data, now)
    return out


def insert(store: StateStore, row: dict[str, Any]) -> None:
    with store.writing() as conn:
        conn.execute(api_keys.insert().values(**row))


def by_hash(store: StateStore, secret_hash: str) -> dict[str, Any] | None:
    """The full row (datetimes, hash included) of the key with this hash, or ``None``."""
    with store.reading() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.secret_hash == secret_hash)).first()
    return dict(row._mapping) if row is not None else None


def by_id(store: StateStore, key_id: str) -> dict[str, Any] | None:
    with store.reading() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    return dict(row._mapping) if row is not None else None


def all_rows(store: StateStore) -> list[dict[str, Any]]:
    """Every key, oldest first (full rows)."""
    with store.reading() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created, api_keys.c.id)).all()
    return [dict(r._mapping) for r in rows]


def existing_ids(store: StateStore) -> set[str]:
    with store.reading() as conn:
        return set(conn.execute(select(api_keys.c.id)).scalars())


def revoke(store: StateStore, key_id: str, when: datetime) -> dict[str, Any] | None:
    """Mark the key revoked at ``when`` (an already revoked key keeps its first time); its row, or ``None``."""
    with store.writing() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked.is_(None))
                     .values(revoked=when))
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    return dict(row._mapping) if row is not None else None


def touch(store: StateStore, key_id: str, when: datetime) -> None:
    """Record ``when`` as the key's last use (never moves it back)."""
    with store.writing() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id)
                     .where((api_keys.c.last_used.is_(None)) | (api_keys.c.last_used < when))
                     .values(last_used=when))
