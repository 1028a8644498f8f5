"""``StateStore(url)``: the one owner of the state database — its engine, settings and migrations.

SQLite (the default) runs in WAL mode with foreign keys on and a busy timeout, its file created with mode
0600; transactions that write start with ``BEGIN IMMEDIATE`` when asked (``sqlite_immediate``) so two
processes never deadlock upgrading a read lock. PostgreSQL goes through psycopg 3 with a small pool and
pre-ping. The engine is made, and the schema migrated, on first use (never at import or construction).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from matcher.errors import ConfigError
from matcher.state.migrations import migrate
from matcher.state.url import normalise, redacted, sqlite_path

log = logging.getLogger("matcher.state")
#: seconds a SQLite writer waits for another one before giving up
SQLITE_BUSY_SECONDS = 30
#: seconds to wait for a PostgreSQL connection
PG_CONNECT_SECONDS = 5


def _sqlite_engine(url: str) -> Engine:
    path = sqlite_path(url)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # the WAL and shm files take the same mode
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")

    return engine


def _postgresql_engine(url: str) -> Engine:
    try:
        import psycopg  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency
        raise ConfigError("a postgresql:// database URL needs psycopg 3: pip install 'psycopg[binary]'") from None
    # a bounded connect timeout: a key check must fail (500, logged) rather than hang when the server is gone
    return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True,
                         connect_args={"connect_timeout": PG_CONNECT_SECONDS})


class StateStore:
    """The state database at ``url`` (see :mod:`matcher.state.url`), migrated to the latest schema on first use."""

    def __init__(self, url: str) -> None:
        self.url = normalise(url)
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"StateStore({redacted(self.url)!r})"

    @property
    def description(self) -> str:
        """The URL without its password (for messages and ``--json`` output)."""
        return redacted(self.url)

    @property
    def engine(self) -> Engine:
        """The engine, created and the schema migrated on first use."""
        with self._lock:
            if self._engine is None:
                engine = _sqlite_engine(self.url) if self.url.startswith("sqlite") else _postgresql_engine(self.url)
                try:
                    migrate(engine)
                except OperationalError as exc:
                    engine.dispose()
                    raise ConfigError(f"cannot open the state database {self.description}: "
                                      f"{str(exc.orig).strip().splitlines()[0]}") from None
                self._engine = engine
            return self._engine

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction that writes (committed at the end, rolled back on an error)."""
        with self.engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
            yield conn

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
