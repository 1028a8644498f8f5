"""API keys through the service, without models (a stub engine: only key routes and /api/me are called):
expiry and revocation refused with 401 at once, revocation by another process within a second, last
use recorded, admin-only revoke route, and no key secret in the audit log or any log line."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from matcher.keys import KeyStore
from matcher.state.schema import api_keys
from service.app import create_app
from service.settings import ServiceSettings


class StubEngine(SimpleNamespace):
    """Stands in for service.state.Engine where no route touches the index."""

    store = None  # no index directory: no lease to keep

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def setup(tmp_path, database_url):
    keys_file = tmp_path / "keys.json"
    store = KeyStore(keys_file, database_url)  # another process: `matcher keys ...`
    admin, _ = store.create("admin")
    settings = ServiceSettings(index=tmp_path / "index", keys_file=keys_file, database_url=database_url,
                               reload_interval=0, audit_log=tmp_path / "audit.jsonl", audit_queries=True)
    app = create_app(settings, engine=StubEngine(snapshot=None))  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, store=store, admin=admin, audit=tmp_path / "audit.jsonl")
    store.close()


def test_admin_creates_lists_and_revokes_keys(setup):
    c, admin = setup.client, setup.admin
    made = c.post("/api/admin/keys", json={"role": "officer", "expires": "30d", "label": "demo"}, headers=auth(admin))
    assert made.status_code == 200, made.text
    officer = made.json()["key"]
    assert made.json()["status"] == "active" and made.json()["expires"].endswith("Z") and made.json()["label"] == "demo"
    assert c.get("/api/me", headers=auth(officer)).json() == {"role": "officer", "institution": None}
    listed = c.get("/api/admin/keys", headers=auth(admin)).json()
    assert {"id", "role", "institution", "created", "expires", "revoked", "last_used", "status"} <= set(listed[0])
    assert all("key" not in r and "secret_hash" not in r for r in listed)
    key_id = made.json()["id"]
    assert c.post(f"/api/admin/keys/{key_id}/revoke", headers=auth(officer)).status_code == 403
    revoked = c.post(f"/api/admin/keys/{key_id}/revoke", headers=auth(admin))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked" and revoked.json()["revoked"]
    refused = c.get("/api/me", headers=auth(officer))  # at once in the process that revoked it
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert refused.headers["www-authenticate"] == "Bearer"
    again = c.post(f"/api/admin/keys/{key_id}/revoke", headers=auth(admin))
    assert again.status_code == 200 and again.json()["revoked"] == revoked.json()["revoked"]
    missing = c.post("/api/admin/keys/key_nope/revoke", headers=auth(admin))
    assert missing.status_code == 404 and "key_nope" in missing.json()["detail"]
    for bad in ("yesterday", "2020-01-01", "0d"):
        r = c.post("/api/admin/keys", json={"role": "officer", "expires": bad}, headers=auth(admin))
        assert r.status_code == 422 and "expires" in r.text, (bad, r.text)


def test_a_key_revoked_by_another_process_is_refused_within_a_second(setup):
    c, store = setup.client, setup.store
    key, record = store.create("officer")
    assert c.get("/api/me", headers=auth(key)).status_code == 200
    store.revoke(record["id"])  # as `matcher keys revoke` does
    started = time.monotonic()
    while c.get("/api/me", headers=auth(key)).status_code != 401:
        assert time.monotonic() - started < 1.0, "a revoked key was still served after a second"
        time.sleep(0.02)


def test_an_expired_key_is_refused(setup):
    c, store = setup.client, setup.store
    key, record = store.create("officer", expires="1h")
    assert c.get("/api/me", headers=auth(key)).status_code == 200
    with store.state.writing() as conn:  # an hour later
        conn.execute(update(api_keys).where(api_keys.c.id == record["id"])
                     .values(expires=datetime.now(UTC) - timedelta(seconds=1)))
    time.sleep(0.6)  # past the service's cache
    refused = c.get("/api/me", headers=auth(key))
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_last_use_is_recorded(setup):
    c, store = setup.client, setup.store
    key, record = store.create("officer")
    assert store.get(record["id"])["last_used"] is None
    c.get("/api/me", headers=auth(key))
    deadline = time.monotonic() + 5  # written in the background: a request never waits for it
    while store.get(record["id"])["last_used"] is None:
        assert time.monotonic() < deadline, "last_used was not written"
        time.sleep(0.05)


def test_no_key_secret_is_logged(setup, caplog):
    c, store, admin = setup.client, setup.store, setup.admin
    key, record = store.create("officer")
    revoked, gone = store.create("officer")
    store.revoke(gone["id"])
    secrets_seen = [admin, key, revoked, "mk_not-a-real-key-but-secret-anyway"]
    with caplog.at_level(logging.DEBUG):
        c.get("/api/me", headers=auth(key))
        c.get("/api/me", headers=auth(revoked))
        c.get("/api/me", headers=auth(secrets_seen[-1]))
        c.post("/api/search", json={"query": key}, headers=auth("x" + key))  # refused before the body is read
        made = c.post("/api/admin/keys", json={"role": "officer", "label": "new"}, headers=auth(admin)).json()
        c.post(f"/api/admin/keys/{record['id']}/revoke", headers=auth(admin))
    secrets_seen += [made["key"], "x" + key]
    logged = caplog.text + setup.audit.read_text()
    assert setup.audit.read_text().count("\n") == 6 and record["id"] in setup.audit.read_text()
    for secret in secrets_seen:
        assert secret not in logged
        assert secret[3:20] not in logged  # not even a part of it


def test_settings_database_url(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_KEYS_FILE", str(tmp_path / "var" / "keys.json"))
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    assert ServiceSettings.from_env().database_url == f"sqlite:///{tmp_path / 'var' / 'state.sqlite'}"
    monkeypatch.setenv("MATCHER_DATABASE_URL", "postgresql://app:pw@db.example/matcher")
    settings = ServiceSettings.from_env()
    assert settings.database_url == "postgresql+psycopg://app:pw@db.example/matcher" and "pw" not in repr(settings)
    monkeypatch.setenv("MATCHER_DATABASE_URL", "oracle://x")
    with pytest.raises(Exception, match="MATCHER_DATABASE_URL.*sqlite:///"):
        ServiceSettings.from_env()
