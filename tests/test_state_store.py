"""The state store (matcher/state/): migrations from an empty database and from the previous version, the
database settings, and the API keys in it — on SQLite always, on PostgreSQL when MATCHER_TEST_DATABASE_URL
is set (the ``database_url`` fixture in conftest.py)."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from matcher.errors import AuthenticationError, ConfigError, InputFileError, NotFoundError
from matcher.keys import KeyStore, hash_key
from matcher.state import keys as key_table
from matcher.state.migrations import LATEST, MIGRATIONS, current_version, migrate
from matcher.state.schema import alerts, api_keys, metadata, schema_version
from matcher.state.store import StateStore
from matcher.state.times import parse_expiry
from matcher.state.url import database_url_from_env, normalise, redacted

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _columns(engine, table: str) -> dict[str, bool]:
    return {c["name"]: bool(c["nullable"]) for c in inspect(engine).get_columns(table)}


def test_migrate_from_empty_gives_the_declared_schema(database_url):
    store = StateStore(database_url)
    engine = store.engine  # opened: migrated
    with engine.connect() as conn:
        assert current_version(conn) == LATEST
        versions = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version)).scalars().all()
    assert versions == [m.version for m in MIGRATIONS]
    assert set(inspect(engine).get_table_names()) == set(metadata.tables)
    for name, table in metadata.tables.items():  # migrations and schema.py agree, column by column
        assert _columns(engine, name) == {c.name: bool(c.nullable) for c in table.columns}, name
    assert "secret_hash" in _columns(engine, "api_keys") and not {"secret", "key"} & set(_columns(engine, "api_keys"))
    assert "meetings" not in inspect(engine).get_table_names()  # the empty placeholder, dropped by migration 4
    for placeholder in ("saved_demands", "alerts", "meeting_plans", "feedback"):
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT COUNT(*) FROM {placeholder}")).scalar_one() == 0
    assert migrate(engine) == []  # idempotent
    store.close()
    assert StateStore(database_url).engine is not None  # re-opening an up-to-date database changes nothing


def test_migrate_from_the_previous_version_keeps_the_data(database_url):
    from sqlalchemy import create_engine

    engine = create_engine(normalise(database_url))
    assert migrate(engine, target=LATEST - 1) == list(range(1, LATEST))
    with engine.begin() as conn:
        conn.execute(api_keys.insert().values(id="key_old", secret_hash=hash_key("mk_old"), role="admin",
                                              created=NOW))
        conn.execute(text("INSERT INTO saved_demands (title, demand, created) VALUES ('old', '{\"text\": \"x\"}', "
                          "'2026-11-29T09:00:00+00:00')"))
    assert "meeting_plans" not in inspect(engine).get_table_names()
    assert "meetings" in inspect(engine).get_table_names()  # the placeholder, until migration 4
    engine.dispose()
    store = StateStore(database_url)  # opening migrates the rest
    with store.reading() as conn:
        assert current_version(conn) == LATEST
    assert {"owner", "filters"} <= set(_columns(store.engine, "saved_demands"))
    assert "meeting_plans" in inspect(store.engine).get_table_names()
    assert "meetings" not in inspect(store.engine).get_table_names()
    with store.reading() as conn:
        assert conn.execute(text("SELECT title, owner FROM saved_demands")).one() == ("old", None)
    keys = KeyStore("/nonexistent/keys.json", database_url)
    assert keys.check("mk_old")[0]["id"] == "key_old"
    store.close()
    keys.close()


def test_a_newer_database_is_refused(database_url):
    store = StateStore(database_url)
    with store.writing() as conn:
        conn.execute(schema_version.insert().values(version=LATEST + 1, name="from the future", applied=NOW))
    store.close()
    with pytest.raises(ConfigError, match=rf"schema version {LATEST + 1}, newer .* latest \({LATEST}\)"):
        _ = StateStore(database_url).engine


def test_foreign_keys_are_enforced(database_url):
    store = StateStore(database_url)
    with pytest.raises(IntegrityError), store.writing() as conn:
        conn.execute(alerts.insert().values(demand_id=12345, technology_id="T-1", kind="demand", created=NOW))
    store.close()


def test_sqlite_file_settings(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path / 'sub' / 'state.sqlite'}")
    with store.reading() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    assert oct((tmp_path / "sub" / "state.sqlite").stat().st_mode & 0o777) == "0o600"
    store.close()


def test_database_urls(tmp_path, monkeypatch):
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    assert database_url_from_env(None, tmp_path / "keys.json") == f"sqlite:///{tmp_path / 'state.sqlite'}"
    assert database_url_from_env(None, "var/keys.json") == "sqlite:///var/state.sqlite"
    monkeypatch.setenv("MATCHER_DATABASE_URL", "postgres://u:pw@db/matcher")
    assert database_url_from_env(None, "var/keys.json") == "postgresql+psycopg://u:pw@db/matcher"
    assert database_url_from_env("sqlite:///x.sqlite", "var/keys.json") == "sqlite:///x.sqlite"  # the flag wins
    assert redacted("postgresql+psycopg://u:pw@db/matcher") == "postgresql+psycopg://u:***@db/matcher"
    for bad in ("mysql://u@h/db", "var/state.sqlite", "sqlite://", "sqlite:///:memory:"):
        with pytest.raises(ConfigError) as err:
            normalise(bad)
        assert "sqlite:///" in str(err.value) and "postgresql://" in str(err.value) or "SQLite file" in str(err.value)
    with pytest.raises(ConfigError) as err:
        normalise("mysql://u:hunter2@h/db")
    assert "hunter2" not in str(err.value)


def test_expiry_parsing():
    assert parse_expiry("2027-01-31", NOW) == datetime(2027, 1, 31, tzinfo=UTC)
    assert parse_expiry("2027-01-31T18:00:00+09:00", NOW) == datetime(2027, 1, 31, 9, tzinfo=UTC)
    assert parse_expiry("30d", NOW) == NOW + timedelta(days=30)
    assert parse_expiry("12h", NOW) == NOW + timedelta(hours=12)
    assert parse_expiry("2w", NOW) == NOW + timedelta(weeks=2)
    assert parse_expiry("90m", NOW) == NOW + timedelta(minutes=90)
    for bad, said in (("2020-01-01", "not in the future"), ("0d", "not in the future"), ("soon", "duration"),
                      ("", "empty"), ("30x", "duration")):
        with pytest.raises(ConfigError, match=said):
            parse_expiry(bad, NOW)


def test_keys_create_check_list_revoke(database_url, tmp_path):
    store = KeyStore(tmp_path / "keys.json", database_url, touch_seconds=0)
    key, record = store.create("officer", "누리대학교 산학협력단", expires="30d", label="for the demo")
    assert key.startswith("mk_") and record["status"] == "active" and record["label"] == "for the demo"
    entry, viewer = store.check(key)
    assert viewer.role == "officer" and viewer.institution == "누리대학교 산학협력단"
    listed = store.listing()
    assert [r["id"] for r in listed] == [record["id"]]
    assert set(listed[0]) == {"id", "role", "institution", "label", "created", "expires", "revoked", "last_used",
                              "status"}
    assert listed[0]["last_used"] is not None and listed[0]["expires"].endswith("Z")
    assert key not in json.dumps(listed) and hash_key(key) not in json.dumps(listed)
    with store.state.reading() as conn:  # only the hash is stored
        stored = conn.execute(select(api_keys.c.secret_hash)).scalars().all()
    assert stored == [hash_key(key)]
    assert store.revoke(record["id"])["status"] == "revoked"
    with pytest.raises(AuthenticationError, match="revoked"):
        store.check(key)
    assert store.authenticate(key) is None and store.verify(key) is None
    first = store.get(record["id"])["revoked"]
    time.sleep(1.1)
    assert store.revoke(record["id"])["revoked"] == first  # revoking again changes nothing
    with pytest.raises(NotFoundError, match=rf"'key_nope'.*{record['id']}"):
        store.revoke("key_nope")
    with pytest.raises(AuthenticationError, match="not valid"):
        store.check("mk_unknown")
    with pytest.raises(ConfigError, match="officer, organiser, admin"):
        store.create("boss")
    with pytest.raises(ConfigError, match="control characters"):
        store.create("officer", label="a\x00b")
    with pytest.raises(NotFoundError, match="no API key"):  # PostgreSQL would refuse the NUL itself
        store.revoke("key_\x00")
    store.close()


def test_revocation_reaches_another_process_within_a_second(database_url, tmp_path):
    service = KeyStore(tmp_path / "keys.json", database_url)  # the running service's store
    cli = KeyStore(tmp_path / "keys.json", database_url)      # `matcher keys revoke` in another process
    key, record = cli.create("admin")
    service.check(key)  # cached now
    cli.revoke(record["id"])
    started = time.monotonic()
    while True:
        try:
            service.check(key)
        except AuthenticationError:
            break
        assert time.monotonic() - started < 1.0, "a revoked key was still accepted after a second"
        time.sleep(0.02)
    later, _ = cli.create("officer")  # a new key is accepted at once (unknown hashes are not cached)
    assert service.check(later)[1].role == "officer"
    service.close()
    cli.close()


def test_expired_keys_are_refused(database_url, tmp_path):
    store = KeyStore(tmp_path / "keys.json", database_url, cache_seconds=0)
    key, record = store.create("officer", expires=datetime.now(UTC) + timedelta(hours=1))
    assert store.check(key)
    with store.state.writing() as conn:  # an hour later
        conn.execute(update(api_keys).where(api_keys.c.id == record["id"])
                     .values(expires=datetime.now(UTC) - timedelta(seconds=1)))
    with pytest.raises(AuthenticationError, match="expired"):
        store.check(key)
    assert store.listing()[0]["status"] == "expired"
    with pytest.raises(ConfigError, match="not in the future"):
        store.create("officer", expires=datetime.now(UTC) - timedelta(days=1))
    store.close()


def test_last_use_is_written_at_most_once_per_interval(database_url, tmp_path, monkeypatch):
    store = KeyStore(tmp_path / "keys.json", database_url, cache_seconds=0, touch_seconds=60)
    key, record = store.create("officer")
    assert store.get(record["id"])["last_used"] is None
    writes: list[str] = []
    real = key_table.touch
    monkeypatch.setattr(key_table, "touch", lambda s, key_id, when: (writes.append(key_id), real(s, key_id, when)))
    for _ in range(5):
        store.check(key)
    assert writes == [record["id"]]
    assert store.get(record["id"])["last_used"] is not None
    store.close()


def test_a_legacy_keys_file_is_imported_once(database_url, tmp_path, caplog):
    keys_file = tmp_path / "keys.json"
    legacy = {"format": "matcher-keys", "version": 1, "keys": [
        {"id": "key_aaaaaaaaaaaa", "role": "admin", "institution": None, "sha256": hash_key("mk_admin"),
         "created": "2026-01-02T03:04:05Z"},
        {"id": "key_bbbbbbbbbbbb", "role": "officer", "institution": "누리대학교 산학협력단",
         "sha256": hash_key("mk_officer"), "created": "2026-01-02T03:04:06Z"}]}
    keys_file.write_text(json.dumps(legacy))
    with caplog.at_level(logging.INFO, logger="matcher.state"):
        store = KeyStore(keys_file, database_url)
        assert {r["id"] for r in store.listing()} == {"key_aaaaaaaaaaaa", "key_bbbbbbbbbbbb"}
    assert any("imported 2 API key(s)" in r.getMessage() and str(keys_file) in r.getMessage() for r in caplog.records)
    assert store.check("mk_officer")[1].institution == "누리대학교 산학협력단"
    assert store.get("key_aaaaaaaaaaaa")["created"] == "2026-01-02T03:04:05Z"
    assert keys_file.exists()  # left in place
    store.revoke("key_bbbbbbbbbbbb")
    # a key added to the old file afterwards is not read, and the revoked one is not brought back
    legacy["keys"].append({"id": "key_cccccccccccc", "role": "admin", "sha256": hash_key("mk_new"),
                           "created": "2026-01-03T00:00:00Z"})
    keys_file.write_text(json.dumps(legacy))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="matcher.state"):
        again = KeyStore(keys_file, database_url)
        assert len(again.listing()) == 2
    assert not any("imported" in r.getMessage() for r in caplog.records)
    assert again.authenticate("mk_new") is None
    with pytest.raises(AuthenticationError, match="revoked"):
        again.check("mk_officer")
    store.close()
    again.close()


def test_a_broken_legacy_keys_file_is_named(tmp_path):
    keys_file = tmp_path / "keys.json"
    keys_file.write_text("{not json")
    with pytest.raises(InputFileError, match=rf"{keys_file}: not valid JSON"):
        KeyStore(keys_file).listing()
    keys_file.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(InputFileError, match="not a key file"):
        KeyStore(keys_file).listing()


def test_concurrent_writers_lose_nothing(database_url, tmp_path):
    stores = [KeyStore(tmp_path / "keys.json", database_url) for _ in range(4)]
    errors: list[BaseException] = []

    def make(store: KeyStore) -> None:
        try:
            for _ in range(5):
                store.create("officer")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(stores[0].listing()) == 20
    for s in stores:
        s.close()
