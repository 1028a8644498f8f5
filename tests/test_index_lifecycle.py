"""The index lifecycle: stage → check → activate, rollback, the activation log, leases and retention — in the
library, the ``matcher index`` / ``matcher build`` commands and the admin API.

Indexes are the demo corpus with a tiny hashed-words encoder (no model is loaded; a build takes well under
a second); the one test that starts a subprocess is marked ``slow``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from matcher.build import build_index
from matcher.cli import main
from matcher.encoders.base import Encoder, EncoderIdentity, l2_normalise
from matcher.errors import ConfigError, NotFoundError, VersionCheckError
from matcher.keys import KeyStore
from matcher.retrieval.config import PipelineConfig
from matcher.store import IndexStore, lifecycle
from matcher.store.activations import ACTIVATIONS, read_activations
from matcher.store.leases import LEASES, Lease, leased_versions
from matcher.store.versions import file_sha256
from service.app import create_app
from service.settings import ServiceSettings
from service.state import load_engine

DIM = 32


class HashedWords(Encoder):
    """A deterministic stand-in encoder: words hashed into 32 buckets (no model to load)."""

    identity = EncoderIdentity(name="hashed", backend="test", model="hashed-words", revision="1", dimension=DIM)
    spec = "hashed"

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        out[:, 0] += 1e-3  # no zero rows
        return l2_normalise(out)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts)


PIPELINE = PipelineConfig.dense_only("hashed")
ENCODERS = {"hashed": HashedWords()}


@pytest.fixture(autouse=True)
def hashed_registry(monkeypatch):
    """``load_encoder('hashed')`` gives the stand-in (what the CLI, a check or a load without encoders call)."""
    import matcher.encoders

    real = matcher.encoders.load_encoder
    monkeypatch.setattr(matcher.encoders, "load_encoder", lambda spec: ENCODERS["hashed"] if spec == "hashed"
                        else real(spec))


def build(corpus: Path, index: Path, **kwargs: object) -> str:
    kwargs = {"keep_versions": 10, **kwargs}
    return build_index(corpus, index, PIPELINE, encoders=ENCODERS, **kwargs).version  # type: ignore[arg-type]


@pytest.fixture()
def index(demo_corpus, tmp_path) -> Path:
    path = tmp_path / "index"
    build(demo_corpus, path)
    return path


def log_of(index: Path) -> list[dict[str, object]]:
    return read_activations(index)


# ---------------------------------------------------------------- stage → check → activate
def test_build_stages_checks_activates_and_logs(index):
    store = IndexStore(index)
    (entry,) = log_of(index)
    assert entry["to"] == store.current_name() and entry["from"] is None
    assert entry["by"] == "build" and entry["action"] == "build"
    assert entry["at"].endswith("Z") and "T" in entry["at"]
    report = lifecycle.check_version(store, store.current_name(), ENCODERS)
    assert report.checks == ("manifest", "vectors", "load", "ids", "query") and report.count > 40


def test_no_activate_stages_and_checks_only(index, demo_corpus):
    store = IndexStore(index)
    active = store.current_name()
    result = build_index(demo_corpus, index, PIPELINE, encoders=ENCODERS, activate=False)
    assert result.active is False and result.to_dict()["active"] is False
    assert store.current_name() == active and result.version in store.versions()
    assert (result.path / "manifest.json").is_file()
    assert len(log_of(index)) == 1  # staging is not an activation
    out = lifecycle.activate(store, result.version, by="cli:tester")
    assert out == lifecycle.Activation(active=result.version, previous=active, changed=True)
    assert store.current_name() == result.version
    last = log_of(index)[-1]
    assert (last["by"], last["action"], last["from"], last["to"]) == ("cli:tester", "activate", active, result.version)
    again = lifecycle.activate(store, result.version, by="cli:tester")
    assert again.changed is False and len(log_of(index)) == 2  # already active: nothing logged


def _vouch_for_records(v: Path) -> None:
    """Record the records file's new digest in the manifest: a build that wrote it so, not a later edit."""
    manifest = json.loads((v / "manifest.json").read_text(encoding="utf-8"))
    manifest["records"]["sha256"] = file_sha256(v / "technologies.jsonl")
    (v / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _drop_a_record(v: Path) -> None:
    lines = (v / "technologies.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (v / "technologies.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")
    _vouch_for_records(v)


def _edit_a_status(v: Path) -> None:
    rows = [json.loads(line) for line in (v / "technologies.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[0]["legal_status"] = "소멸"  # not part of the content hash: only the file's digest tells
    (v / "technologies.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                          encoding="utf-8")


def _garble_faiss(v: Path) -> None:
    (target,) = list(v.glob("dense-*/*.faiss")) or list(v.glob("dense-*/*.npy"))[:1]
    target.write_bytes(b"not a vector index")


def _truncate_rows(v: Path) -> None:
    rows = np.load(v / "dense-hashed" / "rows.npy")
    np.save(v / "dense-hashed" / "rows.npy", rows[:-3], allow_pickle=False)


def _repeat_an_id(v: Path) -> None:
    rows = [json.loads(line) for line in (v / "technologies.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[1]["id"] = rows[0]["id"]
    (v / "technologies.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                          encoding="utf-8")
    _vouch_for_records(v)


def _break_manifest(v: Path) -> None:
    (v / "manifest.json").write_text('{"format_version": 1, "version": ', encoding="utf-8")


def _remove_records(v: Path) -> None:
    (v / "technologies.jsonl").unlink()


@pytest.mark.parametrize(("corrupt", "step", "what"), [
    (_drop_a_record, "load", "manifest count"),
    (_edit_a_status, "load", "changed after the version was published"),
    (_garble_faiss, "vectors", "vector index 'hashed' in "),
    (_truncate_rows, "vectors", "vectors for"),
    (_repeat_an_id, "ids", "appears more than once"),
    (_break_manifest, "manifest", "not valid JSON"),
    (_remove_records, "load", "technologies.jsonl"),
])
def test_a_corrupt_staged_version_is_never_activated(index, demo_corpus, corrupt, step, what):
    store = IndexStore(index)
    active = store.current_name()
    staged = build_index(demo_corpus, index, PIPELINE, encoders=ENCODERS, activate=False)
    corrupt(staged.path)
    before = (index / ACTIVATIONS).read_text(encoding="utf-8")
    with pytest.raises(VersionCheckError) as caught:
        lifecycle.activate(store, staged.version, by="cli:tester", encoders=ENCODERS)
    message = str(caught.value)
    assert staged.version in message and f"failed its check ({step})" in message and what in message
    assert f"the active version stays {active!r}" in message
    assert store.current_name() == active
    assert (index / ACTIVATIONS).read_text(encoding="utf-8") == before
    with pytest.raises(VersionCheckError):  # a rollback to it is refused the same way
        lifecycle.rollback(store, staged.version, by="cli:tester", encoders=ENCODERS)
    assert store.current_name() == active


def test_a_build_whose_version_fails_its_check_leaves_the_old_one_active(index, demo_corpus, monkeypatch):
    store = IndexStore(index)
    active = store.current_name()

    def broken(version):
        raise RuntimeError("the query crashed")

    monkeypatch.setattr(lifecycle, "_check_query", broken)
    with pytest.raises(VersionCheckError, match=r"failed its check \(query\): RuntimeError: the query crashed"):
        build_index(demo_corpus, index, PIPELINE, encoders=ENCODERS)
    assert store.current_name() == active and len(store.versions()) == 2  # staged, for inspection


def test_unknown_version_names_it_and_lists_the_known(index):
    store = IndexStore(index)
    with pytest.raises(NotFoundError) as caught:
        lifecycle.activate(store, "v-nope", by="cli:tester")
    assert "'v-nope'" in str(caught.value) and store.current_name() in str(caught.value)
    with pytest.raises(NotFoundError, match="'../../etc'"):
        lifecycle.activate(store, "../../etc", by="cli:tester")
    with pytest.raises(NotFoundError, match="no such index directory"):
        lifecycle.activate(IndexStore(index.parent / "absent"), "v1", by="cli:tester")
    assert not (index.parent / "absent").exists()


# ---------------------------------------------------------------- rollback
def test_rollback_goes_to_the_previously_active_version(index, demo_corpus):
    store = IndexStore(index)
    first = store.current_name()
    second = build(demo_corpus, index)
    third = build(demo_corpus, index)
    assert lifecycle.rollback_target(store) == second
    out = lifecycle.rollback(store, by="api:k1", encoders=ENCODERS)
    assert out.active == second and out.previous == third and store.current_name() == second
    last = log_of(index)[-1]
    assert (last["by"], last["action"], last["from"], last["to"]) == ("api:k1", "rollback", third, second)
    assert lifecycle.rollback(store, by="api:k1").active == third  # like `cd -`: back again
    assert lifecycle.rollback(store, first, by="api:k1").active == first  # or a chosen one
    assert [e["to"] for e in log_of(index)] == [first, second, third, second, third, first]


def test_rollback_without_history_is_a_clear_error(index):
    store = IndexStore(index)
    with pytest.raises(NotFoundError, match=r"names no version active before .*known versions: v"):
        lifecycle.rollback(store, by="cli:tester")


def test_listing(index, demo_corpus):
    store = IndexStore(index)
    staged = build_index(demo_corpus, index, PIPELINE, encoders=ENCODERS, activate=False)
    rows = [r.to_dict() for r in lifecycle.list_versions(store)]
    assert [r["version"] for r in rows] == store.versions()
    assert all(set(r) == {"version", "active", "created", "count"} for r in rows)
    assert [r["active"] for r in rows] == [True, False] and rows[1]["version"] == staged.version
    assert rows[0]["count"] == staged.count and rows[0]["created"].endswith("Z")


# ---------------------------------------------------------------- retention and leases
def test_retention_keeps_active_rollback_target_and_leased(index, demo_corpus):
    store = IndexStore(index)
    v1 = store.current_name()
    Lease(index, 60).renew(v1)  # a running service serves v1
    expired = Lease(index, 0.05)
    v2 = build(demo_corpus, index)
    expired.renew(v2)
    v3, v4 = build(demo_corpus, index), build(demo_corpus, index)
    v5 = build(demo_corpus, index, activate=False)  # staged, newest
    time.sleep(0.1)
    assert set(leased_versions(index)) == {v1}
    assert lifecycle.protected_versions(store) == {v1: "leased", v3: "rollback target", v4: "active"}
    removed = lifecycle.prune(store, keep=1)
    assert removed == [v2]
    assert store.versions() == [v1, v3, v4, v5]
    assert not expired.path.exists()  # expired lease files are cleaned up


def test_build_keep_never_deletes_the_rollback_target(index, demo_corpus):
    store = IndexStore(index)
    for _ in range(3):
        build(demo_corpus, index, keep_versions=1)
    assert len(store.versions()) == 2  # the active one and the one before it
    assert lifecycle.rollback(store, by="cli:tester").active == store.versions()[0]


def test_lease_renew_and_release(tmp_path):
    lease = Lease(tmp_path, 30)
    lease.renew("v1")
    data = json.loads(lease.path.read_text(encoding="utf-8"))
    assert data["version"] == "v1" and data["pid"] == os.getpid() and data["expires"] > time.time() + 25
    assert lease.path.parent.name == LEASES and data["expires_at"].endswith("Z")
    lease.renew("v2")
    assert set(leased_versions(tmp_path)) == {"v2"}
    lease.release()
    assert leased_versions(tmp_path) == {}


def test_keep_and_lease_settings_are_checked(monkeypatch):
    from matcher.settings import settings_from_env
    from matcher.store.leases import lease_seconds

    monkeypatch.setenv("MATCHER_KEEP_VERSIONS", "two")
    with pytest.raises(ConfigError, match="MATCHER_KEEP_VERSIONS .*'two'"):
        settings_from_env()
    monkeypatch.setenv("MATCHER_KEEP_VERSIONS", "5")
    assert settings_from_env().keep_versions == 5
    with pytest.raises(ConfigError, match="got 0"):
        settings_from_env(keep_versions=0)
    monkeypatch.delenv("MATCHER_KEEP_VERSIONS")
    monkeypatch.setenv("MATCHER_LEASE_SECONDS", "-1")
    with pytest.raises(ConfigError, match="MATCHER_LEASE_SECONDS .*'-1'"):
        lease_seconds()


# ---------------------------------------------------------------- the command
def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_list_activate_rollback(index, demo_corpus, capsys):
    store = IndexStore(index)
    first = store.current_name()
    code, out, _ = run_cli(capsys, "build", "--corpus", str(demo_corpus), "--index", str(index), "--encoder", "hashed",
                           "--no-activate", "--json", "--quiet")
    staged = json.loads(out)
    assert code == 0 and staged["active"] is False and store.current_name() == first

    code, out, _ = run_cli(capsys, "index", "list", "--index", str(index), "--json")
    rows = json.loads(out)
    assert code == 0 and [(r["version"], r["active"]) for r in rows] == [(first, True), (staged["version"], False)]
    code, out, _ = run_cli(capsys, "index", "list", "--index", str(index))
    assert out.splitlines()[1].startswith(f"* {first}") and "(active)" in out and staged["version"] in out

    code, out, _ = run_cli(capsys, "index", "activate", "--index", str(index), staged["version"], "--json")
    assert code == 0 and json.loads(out) == {"active": staged["version"]}
    assert log_of(index)[-1]["by"].startswith("cli:")
    code, out, _ = run_cli(capsys, "index", "rollback", "--index", str(index), "--json")
    assert code == 0 and json.loads(out) == {"active": first} and store.current_name() == first
    code, out, _ = run_cli(capsys, "index", "rollback", "--index", str(index), "--to", staged["version"])
    assert code == 0 and out.strip() == f"active: {staged['version']} (was {first})"


def test_cli_errors_name_the_version_and_exit_non_zero(index, capsys):
    store = IndexStore(index)
    active = store.current_name()
    code, _, err = run_cli(capsys, "index", "activate", "--index", str(index), "v-missing", "--json")
    assert code == 2 and "'v-missing'" in err and active in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "index", "rollback", "--index", str(index), "--to", "v-gone")
    assert code == 2 and "'v-gone'" in err and active in err
    code, _, err = run_cli(capsys, "index", "rollback", "--index", str(index))
    assert code == 2 and "--to VERSION" in err
    code, _, err = run_cli(capsys, "index", "list", "--index", str(index / "nope"))
    assert code == 2 and "no such index directory" in err
    code, _, err = run_cli(capsys, "build", "--corpus", "x", "--index", str(index), "--keep", "0")
    assert code == 2 and "got 0" in err
    assert store.current_name() == active


@pytest.mark.slow  # a subprocess (imports the whole CLI); no model is loaded
def test_cli_as_a_subprocess(index):
    base = [sys.executable, "-m", "matcher.cli", "index"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    listed = subprocess.run([*base, "list", "--index", str(index), "--json"], capture_output=True, text=True,
                            timeout=300, env=env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["active"] is True
    bad = subprocess.run([*base, "activate", "--index", str(index), "v-missing"], capture_output=True, text=True,
                         timeout=300, env=env)
    assert bad.returncode == 2 and "'v-missing'" in bad.stderr and "Traceback" not in bad.stderr


# ---------------------------------------------------------------- the admin API and a running service
@pytest.fixture()
def keys(tmp_path):
    path = tmp_path / "keys.json"
    store = KeyStore(path)
    return path, store.create("admin")[0], store.create("officer")[0], store.records()


def _client(index: Path, keys_file: Path, reload_interval: float = 0.0) -> TestClient:
    settings = ServiceSettings(index=index, keys_file=keys_file, reload_interval=reload_interval, audit_log="")
    return TestClient(create_app(settings, engine=load_engine(settings, ENCODERS)))


def test_admin_routes_activate_and_roll_back(index, demo_corpus, keys):
    keys_file, admin, officer, _ = keys
    store = IndexStore(index)
    first = store.current_name()
    staged = build(demo_corpus, index, activate=False)
    admin_h, officer_h = {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {officer}"}
    with _client(index, keys_file) as c:
        for method, path, body in (("get", "/api/admin/index/versions", None),
                                   ("post", "/api/admin/index/activate", {"version": staged}),
                                   ("post", "/api/admin/index/rollback", {})):
            assert c.request(method, path, json=body).status_code == 401
            assert c.request(method, path, json=body, headers=officer_h).status_code == 403
        assert store.current_name() == first

        listed = c.get("/api/admin/index/versions", headers=admin_h)
        assert listed.status_code == 200, listed.text
        listed = listed.json()
        assert [(r["version"], r["active"]) for r in listed] == [(first, True), (staged, False)]
        r = c.post("/api/admin/index/activate", json={"version": staged}, headers=admin_h)
        assert r.status_code == 200, r.text
        assert r.json() == {"active": staged, "previous": first, "changed": True, "serving": staged}
        assert c.get("/health").json()["index_version"] == staged  # this process serves it at once
        key_id = next(k["id"] for k in KeyStore(keys_file).listing() if k["role"] == "admin")
        assert log_of(index)[-1]["by"] == f"api:{key_id}"

        r = c.post("/api/admin/index/activate", json={"version": "v-missing"}, headers=admin_h)
        assert r.status_code == 404 and "'v-missing'" in r.json()["detail"] and first in r.json()["detail"]
        r = c.post("/api/admin/index/activate", json={"version": "../x"}, headers=admin_h)
        assert r.status_code == 422 and r.json()["field"] == "version"

        r = c.post("/api/admin/index/rollback", headers=admin_h)  # no body: the previous one
        assert r.status_code == 200 and r.json()["active"] == first and r.json()["serving"] == first

        broken = build(demo_corpus, index, activate=False)
        _drop_a_record(store.versions_dir / broken)
        r = c.post("/api/admin/index/rollback", json={"to": broken}, headers=admin_h)
        assert r.status_code == 409 and r.json()["error"] == "VersionCheckError"
        assert broken in r.json()["detail"] and "manifest count" in r.json()["detail"]
        assert store.current_name() == first and c.get("/health").json()["index_version"] == first


def test_a_running_service_follows_an_activation_within_its_reload_interval(index, demo_corpus, keys):
    store = IndexStore(index)
    staged = build(demo_corpus, index, activate=False)
    with _client(index, keys[0], reload_interval=0.1) as c:
        assert c.get("/health").json()["index_version"] != staged
        lifecycle.activate(store, staged, by="cli:tester")  # as `matcher index activate` in another process
        deadline = time.time() + 10
        while c.get("/health").json()["index_version"] != staged:
            assert time.time() < deadline, "the service did not follow the activation"
            time.sleep(0.05)
        lifecycle.rollback(store, by="cli:tester")
        deadline = time.time() + 10
        while c.get("/health").json()["index_version"] == staged:
            assert time.time() < deadline, "the service did not follow the rollback"
            time.sleep(0.05)


def test_retention_spares_the_version_a_running_service_holds(index, demo_corpus, keys):
    store = IndexStore(index)
    served = store.current_name()
    with _client(index, keys[0], reload_interval=0) as c:  # keeps serving `served` (no polling)
        assert set(leased_versions(index)) == {served}
        for _ in range(3):
            build(demo_corpus, index, keep_versions=1)
        assert served in store.versions()  # neither active nor the rollback target: its lease kept it
        assert c.post("/api/search", json={"query": "battery", "top_k": 1},
                      headers={"Authorization": f"Bearer {keys[2]}"}).status_code == 200
    assert leased_versions(index) == {}  # released at shutdown
    lifecycle.prune(store, keep=1)
    assert served not in store.versions()


def test_a_real_server_follows_cli_activation_and_serves_api_rollback(index, demo_corpus, keys, capsys):
    """As in tests/test_hot_swap.py: a real uvicorn server (in a thread), here over the stand-in encoder."""
    import socket
    import threading

    import httpx
    import uvicorn

    staged = build(demo_corpus, index, activate=False)
    first = IndexStore(index).current_name()
    settings = ServiceSettings(index=index, keys_file=keys[0], reload_interval=0.2, audit_log="")
    app = create_app(settings, engine=load_engine(settings, ENCODERS))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base, admin = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {keys[1]}"}
    try:
        deadline = time.time() + 30
        while not server.started:
            assert thread.is_alive() and time.time() < deadline, "server did not start"
            time.sleep(0.05)
        assert httpx.get(f"{base}/health", timeout=10).json()["index_version"] == first
        assert run_cli(capsys, "index", "activate", "--index", str(index), staged, "--json")[0] == 0
        deadline = time.time() + 10  # the reload interval is 0.2 s
        while httpx.get(f"{base}/health", timeout=10).json()["index_version"] != staged:
            assert time.time() < deadline, "the server did not follow `matcher index activate`"
            time.sleep(0.05)
        r = httpx.post(f"{base}/api/admin/index/rollback", headers=admin, timeout=60)
        assert r.status_code == 200 and r.json()["serving"] == first
        assert httpx.get(f"{base}/health", timeout=10).json()["index_version"] == first
    finally:
        server.should_exit = True
        thread.join(timeout=30)
