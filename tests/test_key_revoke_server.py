"""A real `matcher serve` and the real `matcher keys` commands in other processes: a key revoked with
`matcher keys revoke` is refused by the running server within a second, and no key secret reaches the
server's log or the audit log. Also with `--workers 2`: two processes on one port, each refusing it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # a real server over the demo index (real encoders)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _matcher(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)


@pytest.mark.parametrize("workers", [1, 2])
def test_revoked_key_is_refused_by_a_running_server_within_a_second(demo_index, tmp_path, workers):
    keys_file = tmp_path / "keys.json"
    env = {k: v for k, v in os.environ.items() if k not in ("MATCHER_DATABASE_URL", "MATCHER_KEYS_FILE")}
    env.update({"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "MATCHER_AUDIT_QUERIES": "true"})
    made = _matcher("keys", "create", "--role", "officer", "--keys-file", str(keys_file), "--json", env=env)
    assert made.returncode == 0, made.stderr
    key, key_id = json.loads(made.stdout)["key"], json.loads(made.stdout)["id"]
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--index", str(demo_index),
                                 "--port", str(port), "--keys-file", str(keys_file), "--workers", str(workers)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no /health within 180 s"
            time.sleep(0.3)
        while log.read_text().count("Application startup complete") < workers:  # every worker up
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        if workers > 1:
            children = set()
            for task in (Path("/proc") / str(proc.pid) / "task").glob("*"):
                children |= set((task / "children").read_text().split())
            assert len(children) >= workers, f"{workers} worker processes expected, found {children}"
        me = httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert me.status_code == 200, me.text
        httpx.post(f"{base}/api/search", json={"query": "battery", "top_k": 1}, timeout=60,
                   headers={"Authorization": f"Bearer {key}"})
        revoked = _matcher("keys", "revoke", key_id, "--keys-file", str(keys_file), "--json", env=env)
        assert revoked.returncode == 0, revoked.stderr
        done = time.monotonic()
        while True:
            status = httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code
            if status == 401 and all(  # every worker refuses it (a new connection each: either may answer)
                    httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code
                    == 401 for _ in range(4 * workers)):
                break
            assert time.monotonic() - done < 1.0, "the revoked key was still served a second after revoke"
            time.sleep(0.05)
        listed = json.loads(_matcher("keys", "list", "--keys-file", str(keys_file), "--json", env=env).stdout)
        entry = next(r for r in listed if r["id"] == key_id)
        assert entry["status"] == "revoked" and entry["last_used"] is not None and "key" not in entry
        unknown = _matcher("keys", "revoke", "key_nope", "--keys-file", str(keys_file), env=env)
        assert unknown.returncode == 2 and key_id in unknown.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    audit = (tmp_path / "audit.jsonl").read_text()
    assert key_id in audit
    for text in (log.read_text(), audit, made.stderr, revoked.stdout):
        assert key not in text and key[3:20] not in text
