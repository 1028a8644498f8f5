"""The current tables, for queries (SQLAlchemy Core). Only migrations (``migrations.py``) change the
database; ``tests/test_state_store.py`` checks that migrating an empty database gives exactly these.

``saved_demands`` and ``alerts`` hold the saved demands and their alerts (issue 12; ``demands.py``,
``alerts.py``); ``meeting_plans`` the solved meeting plans (issue 13; ``plans.py``); ``feedback`` is a
declared, empty placeholder (its columns are a minimal start and will change through new migrations).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
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

# ---------------------------------------------------------------- saved demands and alerts (issue 12)
#: a demand saved to be re-matched on every new index version; ``institution`` (canonical; ``None`` for an
#: admin's) is whose confidential records it may see; ``demand`` holds ``{"text", "requirements"}``
saved_demands = Table(
    "saved_demands", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(64), ForeignKey("api_keys.id", ondelete="SET NULL")),
    Column("institution", String(300)),
    Column("title", String(300), nullable=False),
    Column("demand", JSON, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime),
    Column("owner", String(300)),
    Column("filters", JSON),
)

#: ``kind = 'demand'``: a technology entering a saved demand's top k (once per demand and technology);
#: ``kind = 'admin'``: a refused nightly run (no demand, no technology; ``evidence`` holds the report)
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("demand_id", Integer, ForeignKey("saved_demands.id", ondelete="CASCADE")),
    Column("technology_id", String(128)),
    Column("version", String(100)),
    Column("score", Float),
    Column("evidence", JSON),
    Column("kind", String(16), nullable=False),
    Column("message", Text),
    Column("created", UtcDateTime, nullable=False),
    UniqueConstraint("demand_id", "technology_id", name="uq_alerts_demand_technology"),
)

# ---------------------------------------------------------------- meeting plans (issue 13)
#: a solved plan of one event (``matcher/meetings/plan.py``'s JSON, as text); ``status`` is ``draft`` until
#: published (``published``: when), ``superseded`` once a re-plan pinned from it is published;
#: ``pinned_from`` is the plan whose published meetings it kept in place
meeting_plans = Table(
    "meeting_plans", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(300), nullable=False),
    Column("event_date", String(10), nullable=False),
    Column("index_version", String(100), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("created_by", String(64), ForeignKey("api_keys.id", ondelete="SET NULL")),
    Column("plan", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("published", UtcDateTime),
    Column("pinned_from", Integer, ForeignKey("meeting_plans.id", ondelete="SET NULL")),
)

# ---------------------------------------------------------------- placeholders (issue 13)

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
