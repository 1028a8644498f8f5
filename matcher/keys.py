"""API keys: created once, shown once, stored only as SHA-256 hashes in the state database.

``KeyStore(keys_file, database_url)`` is the keys' one entry point for the CLI and the service. The keys
live in the ``api_keys`` table of the state store (``matcher/state/``: SQLite ``state.sqlite`` beside
``keys_file`` unless a database URL is given — ``MATCHER_DATABASE_URL`` for the CLI and the service).
``keys_file`` is the JSON file keys were kept in before; when it exists it is imported once, on first use
(``matcher/state/legacy.py``), and left in place.

A key may expire (``expires``) and may be revoked; either is refused (401) from then on. Every check reads
the store, with a per-process cache of at most :data:`CACHE_SECONDS`, so a key revoked by another process
is refused within that time and a new key is accepted at once (unknown hashes are never cached). The last
use of a key is written at most every :data:`TOUCH_SECONDS` per process. The plaintext key is never stored
or logged.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.access import ROLES, Viewer
from matcher.errors import AuthenticationError, ConfigError, MatcherError, NotFoundError
from matcher.settings import default_of, env_name, settings_from_env

if TYPE_CHECKING:
    from matcher.state.store import StateStore

KEY_PREFIX = "mk_"
#: the legacy keys JSON file (imported once); the state database is ``state.sqlite`` beside it by default
DEFAULT_KEYS_FILE: Path = default_of("keys_file")
KEYS_FILE_ENV = env_name("keys_file")
#: seconds a successful key check is reused by a process (revocation reaches it within this time)
CACHE_SECONDS = 0.5
#: seconds between two writes of one key's ``last_used`` by a process
TOUCH_SECONDS = 60.0
log = logging.getLogger("matcher.keys")


def keys_file_from_env(given: str | Path | None = None) -> Path:
    """``given`` (e.g. ``--keys-file``), else ``MATCHER_KEYS_FILE``, else :data:`DEFAULT_KEYS_FILE`."""
    return Path(given) if given else settings_from_env().keys_file


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _plain(key_id: str) -> bool:
    """Could ``key_id`` be an id at all (short printable text; PostgreSQL refuses NUL characters)?"""
    return isinstance(key_id, str) and 0 < len(key_id) <= 64 and key_id.isprintable()


class KeyStore:
    """API keys in the state database (see the module docstring)."""

    def __init__(self, path: str | Path = DEFAULT_KEYS_FILE, database_url: str | None = None, *,
                 cache_seconds: float = CACHE_SECONDS, touch_seconds: float = TOUCH_SECONDS,
                 touch_in_background: bool = False) -> None:
        from matcher.state.url import default_database_url, normalise

        self.path = Path(path)
        self.database_url = normalise(database_url or default_database_url(self.path))
        self.cache_seconds = cache_seconds
        self.touch_seconds = touch_seconds
        #: write ``last_used`` in a short-lived thread, so a request never waits for a busy database (service)
        self.touch_in_background = touch_in_background
        self._state: StateStore | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}  # hash → (monotonic time read, row)
        self._touched: dict[str, float] = {}  # key id → monotonic time of the last last_used write

    @property
    def state(self) -> StateStore:
        """The state store, opened (migrated, the legacy keys file imported) on first use."""
        from matcher.state.legacy import import_keys_file
        from matcher.state.store import StateStore

        with self._lock:
            if self._state is None:
                state = StateStore(self.database_url)
                import_keys_file(state, self.path)
                self._state = state
            return self._state

    @property
    def location(self) -> str:
        """Where the keys are (the database URL without its password)."""
        from matcher.state.url import redacted

        return redacted(self.database_url)

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._state.close()
                self._state = None

    # ------------------------------------------------------------------ reading
    def listing(self) -> list[dict[str, Any]]:
        """Every key (id, role, institution, label, created, expires, revoked, last_used, status), no secrets."""
        from matcher.state import keys as table
        from matcher.state.times import utcnow

        now = utcnow()
        return [table.public(row, now) for row in table.all_rows(self.state)]

    def records(self) -> list[dict[str, Any]]:
        """The same as :meth:`listing` (kept for callers of the JSON-file store)."""
        return self.listing()

    def get(self, key_id: str) -> dict[str, Any]:
        """One key's listing entry; ``NotFoundError`` for an unknown id."""
        from matcher.state import keys as table
        from matcher.state.times import utcnow

        row = table.by_id(self.state, key_id) if _plain(key_id) else None
        if row is None:
            raise self._unknown(key_id)
        return table.public(row, utcnow())

    def check(self, key: str) -> tuple[dict[str, Any], Viewer]:
        """``(listing entry, viewer)`` for a usable key; ``AuthenticationError`` saying why not otherwise."""
        from matcher.state import keys as table
        from matcher.state.times import iso, utcnow

        if not isinstance(key, str) or not key:
            raise AuthenticationError("the API key is not valid")
        digest = hash_key(key)
        row = self._cached(digest)
        if row is None:
            row = table.by_hash(self.state, digest)
            if row is None:
                raise AuthenticationError("the API key is not valid")
            with self._lock:
                self._cache[digest] = (time.monotonic(), row)
        now = utcnow()
        state = table.status(row, now)
        if state == "revoked":
            raise AuthenticationError(f"the API key {row['id']} was revoked at {iso(row['revoked'])}")
        if state == "expired":
            raise AuthenticationError(f"the API key {row['id']} expired at {iso(row['expires'])}")
        try:
            viewer = Viewer(role=row["role"], institution=row["institution"])
        except ConfigError:
            raise AuthenticationError("the API key is not valid") from None
        self._touch(row["id"], now)
        return table.public(row, now), viewer

    def authenticate(self, key: str) -> tuple[dict[str, Any], Viewer] | None:
        """``(listing entry, viewer)`` for a usable key (the entry's ``id`` names the key in logs), else ``None``."""
        try:
            return self.check(key)
        except AuthenticationError:
            return None

    def verify(self, key: str) -> Viewer | None:
        """The viewer a key stands for, or ``None`` for an unknown, revoked or expired key."""
        found = self.authenticate(key)
        return found[1] if found is not None else None

    def _cached(self, digest: str) -> dict[str, Any] | None:
        with self._lock:
            hit = self._cache.get(digest)
            if hit is None:
                return None
            if time.monotonic() - hit[0] > self.cache_seconds:
                del self._cache[digest]
                return None
            return hit[1]

    def _touch(self, key_id: str, now: datetime) -> None:
        """Write the key's last use, at most every ``touch_seconds`` per key (a failed write is only logged)."""
        clock = time.monotonic()
        with self._lock:
            last = self._touched.get(key_id)
            if last is not None and clock - last < self.touch_seconds:
                return
            self._touched[key_id] = clock
        state = self.state
        if self.touch_in_background:
            threading.Thread(target=self._write_touch, args=(state, key_id, now), name="key-last-used",
                             daemon=True).start()
        else:
            self._write_touch(state, key_id, now)

    @staticmethod
    def _write_touch(state: StateStore, key_id: str, now: datetime) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from matcher.state import keys as table

        try:
            table.touch(state, key_id, now)
        except (SQLAlchemyError, MatcherError) as exc:
            log.warning("could not record the last use of API key %s: %s", key_id, type(exc).__name__)

    # ------------------------------------------------------------------ writing
    def create(self, role: str, institution: str | None = None, *, expires: datetime | str | None = None,
               label: str | None = None) -> tuple[str, dict[str, Any]]:
        """A new key for ``role`` (bound to ``institution`` when given; expiring at ``expires``, a datetime
        or ``--expires`` text): ``(key, listing entry)``. The key is returned here and nowhere else."""
        from matcher.state import keys as table
        from matcher.state.times import parse_expiry, utcnow

        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
        institution = institution.strip() if institution else None
        for name, value in (("institution", institution), ("label", label)):
            if value is not None and any(ord(ch) < 32 for ch in value):
                raise ConfigError(f"the {name} {value!r} holds control characters; give plain text")
        Viewer(role, institution)  # validates
        now = utcnow()
        if isinstance(expires, str):
            expires = parse_expiry(expires, now)
        elif expires is not None and expires <= now:
            raise ConfigError(f"expiry {expires.isoformat()} is not in the future")
        label = (label.strip()[:200] or None) if label else None
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = {"id": "key_" + secrets.token_hex(6), "secret_hash": hash_key(key), "role": role,
               "institution": institution, "label": label, "created": now, "expires": expires}
        table.insert(self.state, row)
        log.info("created API key %s (role %s%s)", row["id"], role, f", institution {institution}" if institution else "")
        return key, table.public(row, now)

    def revoke(self, key_id: str) -> dict[str, Any]:
        """Revoke the key ``key_id`` (again: no change); its listing entry. ``NotFoundError`` for an unknown id."""
        from matcher.state import keys as table
        from matcher.state.times import utcnow

        now = utcnow()
        row = table.revoke(self.state, key_id, now) if _plain(key_id) else None
        if row is None:
            raise self._unknown(key_id)
        with self._lock:  # this process refuses it at once; others within cache_seconds
            for digest in [d for d, (_, r) in self._cache.items() if r["id"] == key_id]:
                del self._cache[digest]
        log.info("revoked API key %s", key_id)
        return table.public(row, now)

    def _unknown(self, key_id: str) -> NotFoundError:
        from matcher.state import keys as table

        known = sorted(table.existing_ids(self.state))
        shown = ", ".join(known[:20]) + (f" … ({len(known)} in all)" if len(known) > 20 else "")
        return NotFoundError(f"no API key with id {key_id!r}; known ids: {shown or '(none)'}")
