"""Ordered schema migrations, applied when a store is opened (idempotent, one at a time across processes).

Each migration is frozen: it declares the tables as they were at that version (never imported from
``schema.py``, which follows the latest), so an old database is migrated the same way forever. A new
migration is appended with the next number; nothing here is ever edited once released.

``schema_version`` holds one row per applied migration. :func:`migrate` takes a lock first — SQLite
``BEGIN IMMEDIATE``, PostgreSQL ``pg_advisory_xact_lock`` — so two processes opening a new database at
once apply each migration once. A database newer than this code is refused, not touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)

from matcher.errors import ConfigError
from matcher.state.schema import schema_version
from matcher.state.times import utcnow
from matcher.state.utctype import UtcDateTime

log = logging.getLogger("matcher.state")
#: the PostgreSQL advisory lock taken while migrating (any constant shared by every process of this app)
PG_LOCK = 0x6D61_7463  # "matc"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _v1_api_keys(conn: Connection) -> None:
    md = MetaData()
    Table("api_keys", md,
          Column("id", String(64), primary_key=True),
          Column("secret_hash", String(64), nullable=False, unique=True),
          Column("role", String(16), nullable=False),
          Column("institution", String(300)),
          Column("label", String(200)),
          Column("created", UtcDateTime, nullable=False),
          Column("expires", UtcDateTime),
          Column("revoked", UtcDateTime),
          Column("last_used", UtcDateTime))
    Table("legacy_imports", md,
          Column("source", String(1000), primary_key=True),
          Column("imported", UtcDateTime, nullable=False),
          Column("keys", Integer, nullable=False))
    md.create_all(conn, checkfirst=False)


def _v2_placeholders(conn: Connection) -> None:
    md = MetaData()
    Table("api_keys", md, Column("id", String(64), primary_key=True))  # referenced, exists since v1
    saved = Table("saved_demands", md,
                  Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("key_id", String(64), ForeignKey("api_keys.id", ondelete="SET NULL")),
                  Column("institution", String(300)),
                  Column("title", String(300), nullable=False),
                  Column("demand", JSON, nullable=False),
                  Column("created", UtcDateTime, nullable=False),
                  Column("updated", UtcDateTime))
    alerts = Table("alerts", md,
                   Column("id", Integer, primary_key=True, autoincrement=True),
                   Column("saved_demand_id", Integer, ForeignKey("saved_demands.id", ondelete="CASCADE"),
                          nullable=False),
                   Column("channel", String(50), nullable=False),
                   Column("active", Boolean, nullable=False),
                   Column("last_sent", UtcDateTime),
                   Column("created", UtcDateTime, nullable=False))
    meetings = Table("meetings", md,
                     Column("id", Integer, primary_key=True, autoincrement=True),
                     Column("saved_demand_id", Integer, ForeignKey("saved_demands.id", ondelete="SET NULL")),
                     Column("technology_id", String(128)),
                     Column("institution", String(300)),
                     Column("company", String(300)),
                     Column("status", String(30), nullable=False),
                     Column("scheduled", UtcDateTime),
                     Column("notes", Text),
                     Column("created", UtcDateTime, nullable=False))
    feedback = Table("feedback", md,
                     Column("id", Integer, primary_key=True, autoincrement=True),
                     Column("key_id", String(64), ForeignKey("api_keys.id", ondelete="SET NULL")),
                     Column("kind", String(30), nullable=False),
                     Column("subject", String(128)),
                     Column("rating", SmallInteger),
                     Column("comment", Text),
                     Column("created", UtcDateTime, nullable=False))
    md.create_all(conn, tables=[saved, alerts, meetings, feedback], checkfirst=False)


def _v3_demands_and_alerts(conn: Connection) -> None:
    """Saved demands gain their owner and filters; the (empty) placeholder ``alerts`` table is replaced by
    the alert rows of issue 12: one per (demand, technology) entering a demand's top k, or an admin alert."""
    md = MetaData()
    Table("saved_demands", md, Column("id", Integer, primary_key=True))  # exists since v2
    conn.execute(text("ALTER TABLE saved_demands ADD COLUMN owner VARCHAR(300)"))
    conn.execute(text(f"ALTER TABLE saved_demands ADD COLUMN filters {JSON().compile(dialect=conn.dialect)}"))
    conn.execute(text("DROP TABLE alerts"))
    alerts = Table("alerts", md,
                   Column("id", Integer, primary_key=True, autoincrement=True),
                   Column("demand_id", Integer, ForeignKey("saved_demands.id", ondelete="CASCADE")),
                   Column("technology_id", String(128)),
                   Column("version", String(100)),
                   Column("score", Float),
                   Column("evidence", JSON),
                   Column("kind", String(16), nullable=False),
                   Column("message", Text),
                   Column("created", UtcDateTime, nullable=False),
                   UniqueConstraint("demand_id", "technology_id", name="uq_alerts_demand_technology"))
    md.create_all(conn, tables=[alerts], checkfirst=False)


def _v4_meeting_plans(conn: Connection) -> None:
    """Meeting plans (issue 13): one row per solved plan of an event, its JSON as text, draft until published.
    The empty placeholder ``meetings`` table of migration 2 is dropped: nothing ever wrote it, and a plan's
    meetings live in the plan (the JSON the briefing packets read), not in rows of their own."""
    md = MetaData()
    Table("api_keys", md, Column("id", String(64), primary_key=True))  # referenced, exists since v1
    conn.execute(text("DROP TABLE meetings"))
    plans = Table("meeting_plans", md,
                  Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("name", String(300), nullable=False),
                  Column("event_date", String(10), nullable=False),
                  Column("index_version", String(100), nullable=False),
                  Column("created", UtcDateTime, nullable=False),
                  Column("created_by", String(64), ForeignKey("api_keys.id", ondelete="SET NULL")),
                  Column("plan", Text, nullable=False),
                  Column("status", String(16), nullable=False),
                  Column("published", UtcDateTime),
                  Column("pinned_from", Integer, ForeignKey("meeting_plans.id", ondelete="SET NULL")))
    md.create_all(conn, tables=[plans], checkfirst=False)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "api keys and legacy key-file imports", _v1_api_keys),
    Migration(2, "placeholders: saved demands, alerts, meetings, feedback", _v2_placeholders),
    Migration(3, "saved demands (owner, filters) and alerts (issue 12)", _v3_demands_and_alerts),
    Migration(4, "meeting plans (issue 13); the empty meetings placeholder dropped", _v4_meeting_plans),
)
LATEST = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The highest applied migration (0 for an empty database)."""
    if not conn.dialect.has_table(conn, schema_version.name):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(schema_version.c.version), 0))).scalar_one())


def migrate(engine: Engine, target: int | None = None) -> list[int]:
    """Apply the migrations above the database's version up to ``target`` (default: all); the versions applied."""
    target = LATEST if target is None else target
    if not 0 <= target <= LATEST:
        raise ConfigError(f"unknown schema version {target}; valid: 0 to {LATEST}")
    applied: list[int] = []
    with engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK})
        schema_version.create(conn, checkfirst=True)
        version = current_version(conn)
        if version > LATEST:
            raise ConfigError(f"the state database is at schema version {version}, newer than this code's "
                              f"latest ({LATEST}); upgrade matcher or use another MATCHER_DATABASE_URL")
        for migration in MIGRATIONS:
            if version < migration.version <= target:
                migration.apply(conn)
                conn.execute(schema_version.insert().values(version=migration.version, name=migration.name,
                                                            applied=utcnow()))
                applied.append(migration.version)
    if applied:
        log.info("state database migrated to schema version %d (applied %s)", applied[-1],
                 ", ".join(map(str, applied)))
    return applied
