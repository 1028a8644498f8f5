"""The current tables, for queries (SQLAlchemy Core). Only migrations (``migrations.py``) change the
database; ``tests/test_state_store.py`` checks that migrating an empty database gives exactly these.

``saved_demands``, ``alerts``, ``meetings`` and ``feedback`` are declared, empty placeholders for issues
12 and 13 (their columns are a minimal start and will change through new migrations).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

from matcher.state.utctype import UtcDateTime

metadata = MetaData()

#: one row per applied migration (``migrations.py``)
schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied", UtcDateTime, nullable=False),
)

#: API keys: the SHA-256 of the secret, never the secret
api_keys = Table(
    "api_keys", metadata,
    Column("id", String(64), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("institution", String(300)),
    Column("label", String(200)),
    Column("created", UtcDateTime, nullable=False),
    Column("expires", UtcDateTime),
    Column("revoked", UtcDateTime),
    Column("last_used", UtcDateTime),
)

#: key files imported once (``legacy.py``): their absolute path, when and how many keys
legacy_imports = Table(
    "legacy_imports", metadata,
    Column("source", String(1000), primary_key=True),
    Column("imported", UtcDateTime, nullable=False),
    Column("keys", Integer, nullable=False),
)

# ---------------------------------------------------------------- placeholders (issues 12 and 13)
saved_demands = Table(
    "saved_demands", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(64), ForeignKey("api_keys.id", ondelete="SET NULL")),
    Column("institution", String(300)),
    Column("title", String(300), nullable=False),
    Column("demand", JSON, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("saved_demand_id", Integer, ForeignKey("saved_demands.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(50), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("last_sent", UtcDateTime),
    Column("created", UtcDateTime, nullable=False),
)

meetings = Table(
    "meetings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("saved_demand_id", Integer, ForeignKey("saved_demands.id", ondelete="SET NULL")),
    Column("technology_id", String(128)),
    Column("institution", String(300)),
    Column("company", String(300)),
    Column("status", String(30), nullable=False),
    Column("scheduled", UtcDateTime),
    Column("notes", Text),
    Column("created", UtcDateTime, nullable=False),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(64), ForeignKey("api_keys.id", ondelete="SET NULL")),
    Column("kind", String(30), nullable=False),
    Column("subject", String(128)),
    Column("rating", SmallInteger),
    Column("comment", Text),
    Column("created", UtcDateTime, nullable=False),
)
