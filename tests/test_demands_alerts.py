"""Saved demands and alerts (issue 12, point 6): the state tables, the alert computation over two index
versions (once only, confidentiality, the first-version baseline), digests, SMTP and webhook delivery, the
admin alert of a refused run, ``matcher demands|alerts`` in-process and ``/api/demands`` / ``/api/alerts``.

Built on fake encoders: two small index versions of the demo corpus, the first without DEMO-0036
(confidential, 누리대학교's) and DEMO-0032 (public), the second with every record.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.jobs.alert_hooks import AlertHooks
from matcher.jobs.alerts import alerts_for_version, demand_overlaps
from matcher.jobs.config import load_config
from matcher.jobs.digest import deliver, slug, write_digests
from matcher.state import alerts as alert_table
from matcher.state import demands as demand_table
from matcher.state.store import StateStore
from matcher.store.versions import IndexStore

OWNER = "누리대학교 산학협력단"   # owns DEMO-0036 (confidential)
OTHER = "새솔대학교 산학협력단"
SECRET = "DEMO-0036"
PUBLIC = "DEMO-0032"
QUERY = "federated training of medical imaging models across hospitals without moving patient scans"


@pytest.fixture(scope="module")
def indexes(demo_corpus, fake_demo_index, fake_encoders, tmp_path_factory):
    """(older index dir, newer index dir): the newer one adds DEMO-0036 and DEMO-0032."""
    from matcher.build import build_index
    from matcher.ingest import read_corpus

    corpus = read_corpus(demo_corpus)
    root = tmp_path_factory.mktemp("alert-indexes")
    without = dataclasses.replace(corpus, technologies=[t for t in corpus.technologies
                                                        if t.id not in (SECRET, PUBLIC)])
    cache = fake_demo_index / "embeddings.sqlite"
    build_index(without, root / "v1", encoders=dict(fake_encoders), cache_path=cache)
    build_index(corpus, root / "v2", encoders=dict(fake_encoders), cache_path=cache)
    return root / "v1", root / "v2"


@pytest.fixture(scope="module")
def versions(indexes, fake_encoders):
    return tuple(IndexStore(p).load(dict(fake_encoders)) for p in indexes)


@pytest.fixture
def state(database_url):
    store = StateStore(database_url)
    yield store
    store.close()


def _config(tmp_path: Path, index: Path, database_url: str, **alerts: object) -> Path:
    lines = [f'index = "{index}"', "", "[state]", f'database_url = "{database_url}"', "", "[alerts]",
             f'digest_dir = "{tmp_path / "digests"}"', "top_k = 5"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in alerts.items()]
    path = tmp_path / "job.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _pairs(rows: list[dict]) -> set[tuple[int, str]]:
    return {(r["demand"], r["technology"]) for r in rows}


def test_alerts_once_only_with_a_baseline_and_confidentiality(state, versions):
    v1, v2 = versions
    mine = demand_table.save(state, text=QUERY, owner="kim@nuri.ac.kr", institution=OWNER)["id"]
    theirs = demand_table.save(state, text=QUERY, owner="lee@saesol.ac.kr", institution=OTHER)["id"]
    nobody = demand_table.save(state, text=QUERY, owner="public desk")["id"]
    assert alerts_for_version(state, None, v1, top_k=5) == []  # the first version: a baseline
    rows = alerts_for_version(state, v1, v2, top_k=5)
    pairs = _pairs(rows)
    assert (mine, SECRET) in pairs and (mine, PUBLIC) in pairs
    assert (theirs, PUBLIC) in pairs and (nobody, PUBLIC) in pairs
    assert (theirs, SECRET) not in pairs and (nobody, SECRET) not in pairs  # never a record it may not see
    assert all(r["version"] == v2.name and 0 < r["score"] <= 1 for r in rows)
    by_pair = {(r["demand"], r["technology"]): r for r in rows}
    assert by_pair[(mine, SECRET)]["owner"] == "kim@nuri.ac.kr" and by_pair[(mine, SECRET)]["evidence"]["title"]
    assert alerts_for_version(state, v1, v2, top_k=5) == []  # once per (demand, technology)
    assert alerts_for_version(state, v2, v2, top_k=5) == []  # nothing new
    listed = alert_table.listing(state, institution=OTHER)
    assert _pairs(listed) == {(theirs, PUBLIC)}
    assert alert_table.listing(state, institution=OWNER, since=v2.name) == []
    assert _pairs(alert_table.listing(state, institution=OWNER, since=v1.name)) >= {(mine, SECRET)}
    overlaps = demand_overlaps(state, v2, v1, top_k=10)
    assert overlaps[mine] < 1.0 and set(overlaps) == {mine, theirs, nobody}
    assert demand_overlaps(state, None, v2) == {}
    assert demand_overlaps(state, v2, v2)[mine] == 1.0
    demand_table.delete_demand(state, mine, OWNER)  # its alerts go with it
    assert not any(r["demand"] == mine for r in alert_table.listing(state, every=True))


def test_demands_are_bound_to_their_institution(state):
    row = demand_table.save(state, text=QUERY, institution=OWNER)
    assert [d["id"] for d in demand_table.listing(state, OWNER)] == [row["id"]]
    assert demand_table.listing(state, OTHER) == []
    with pytest.raises(Exception, match=rf"no saved demand with id {row['id']}"):
        demand_table.delete_demand(state, row["id"], OTHER)
    assert demand_table.get(state, row["id"]) is not None


def test_digest_files_escape_user_text(tmp_path):
    rows = [{"demand": 1, "technology": "T-1", "score": 0.5, "version": "v1", "owner": "Kim <b>&",
             "demand_title": "<script>alert(1)</script>", "evidence": {"title": "로봇 & <i>", "institutions": ["A"]}}]
    written = write_digests(rows, "v1", tmp_path)
    html_file, text_file = written["Kim <b>&"]
    assert html_file == tmp_path / "v1" / f"{slug('Kim <b>&')}.html" and text_file.suffix == ".txt"
    page = html_file.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "로봇 &amp; &lt;i&gt;" in page
    assert "<script>alert(1)</script>" in text_file.read_text(encoding="utf-8")  # plain text stays plain
    assert slug("") == "unassigned" and "/" not in slug("../../etc/passwd")


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the handler's API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Hook.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Inbox(Message):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list = []

        def handle_message(self, message) -> None:
            self.messages.append(message)

    with socket.socket() as probe:  # a free port (the controller checks it is up by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield "127.0.0.1", port, inbox.messages
    controller.stop()


def test_smtp_and_webhook_delivery(smtp_server, webhook):
    host, port, inbox = smtp_server
    url, received = webhook
    rows = [{"demand": 1, "technology": "T-1", "score": 0.5, "version": "v9", "owner": "kim@nuri.ac.kr",
             "demand_title": "robots", "evidence": {"title": "로봇"}},
            {"demand": 2, "technology": "T-2", "score": 0.4, "version": "v9", "owner": "a desk, not an address",
             "demand_title": "x", "evidence": {}}]
    done = deliver(rows, "v9", smtp_host=host, smtp_port=port, mail_from="matcher@test", webhook_url=url)
    assert done.failures == [] and done.sent == ["kim@nuri.ac.kr"] and done.webhook == 1
    assert len(inbox) == 1 and inbox[0]["To"] == "kim@nuri.ac.kr" and "v9" in inbox[0]["Subject"]
    parts = {p.get_content_type() for p in inbox[0].walk()}
    assert {"text/plain", "text/html"} <= parts
    assert received == [{"version": "v9", "alerts": rows}]
    failed = deliver(rows, "v9", smtp_host="127.0.0.1", smtp_port=1, webhook_url="http://127.0.0.1:1/x")
    assert len(failed.failures) == 2 and failed.sent == []  # logged and counted, never raised


def test_hooks_publish_and_refusal(tmp_path, database_url, versions, indexes, smtp_server, webhook):
    v1, v2 = versions
    host, port, inbox = smtp_server
    url, received = webhook
    hooks = AlertHooks(load_config(_config(tmp_path, indexes[1], database_url, smtp_host=host, smtp_port=port,
                                           webhook_url=url)))
    demand_table.save(hooks.state, text=QUERY, owner="kim@nuri.ac.kr", institution=OWNER)
    assert hooks.after_publish(None, v1) == 0
    assert hooks.overlaps(v1, v2) and all(isinstance(k, str) for k in hooks.overlaps(v1, v2))
    count = hooks.after_publish(v1, v2)
    assert count >= 2 and hooks.last_delivery.sent == ["kim@nuri.ac.kr"] and len(inbox) == 1
    assert len(received) == 1 and len(received[0]["alerts"]) == count
    digest = tmp_path / "digests" / v2.name / "kim@nuri.ac.kr.html"
    assert digest.is_file() and SECRET in digest.read_text(encoding="utf-8")
    assert hooks.after_publish(v1, v2) == 0  # once only
    hooks.on_refused({"failed": ["self_retrieval"], "self_retrieval": 0.81, "threshold": 0.95, "staged": "v3"})
    admin = alert_table.listing(hooks.state, kind="admin")
    assert len(admin) == 1 and "self_retrieval" in admin[0]["message"]
    assert admin[0]["evidence"]["self_retrieval"] == 0.81 and admin[0]["version"] == "v3"
    hooks.close()


def test_the_commands(tmp_path, database_url, versions, indexes, capsys):
    v1, v2 = versions
    config = _config(tmp_path, indexes[1], database_url)

    def run(*argv: str) -> tuple[int, object]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, (json.loads(out) if code == 0 and "--json" in argv else err)

    code, saved = run("demands", "save", "--config", str(config), "--text", QUERY, "--owner", "kim@nuri.ac.kr",
                      "--institution", "누리대", "--json")
    assert code == 0 and isinstance(saved["id"], int) and saved["institution"] == OWNER
    demand_file = tmp_path / "demand.json"
    demand_file.write_text(json.dumps({"requirements": ["CRISPR 현장 진단"], "filters": {"trl_min": 3}}))
    code, other = run("demands", "save", "--config", str(config), "--demand", str(demand_file), "--json")
    assert code == 0 and other["institution"] is None
    code, err = run("demands", "save", "--config", str(config), "--text", QUERY, "--institution", "없는대학교")
    assert code == 2 and "unknown institution '없는대학교'" in err and OWNER in err
    code, listed = run("demands", "list", "--config", str(config), "--json")
    assert [d["id"] for d in listed] == [saved["id"], other["id"]]
    state = StateStore(database_url)
    alerts_for_version(state, v1, v2, top_k=5)
    state.close()
    code, alerts = run("alerts", "--config", str(config), "--json")
    assert code == 0 and (saved["id"], SECRET) in {(a["demand"], a["technology"]) for a in alerts}
    assert all({"demand", "technology", "score", "version"} <= set(a) for a in alerts)
    assert run("alerts", "--config", str(config), "--since", v2.name, "--json") == (0, [])
    code, _ = run("demands", "delete", "--config", str(config), str(saved["id"]))
    assert code == 0
    code, err = run("demands", "delete", "--config", str(config), str(saved["id"]))
    assert code == 2 and f"no saved demand with id {saved['id']}" in err
    assert [d["id"] for d in run("demands", "list", "--config", str(config), "--json")[1]] == [other["id"]]


def test_the_api(tmp_path, database_url, versions, indexes, fake_encoders):
    from fastapi.testclient import TestClient

    from matcher.keys import KeyStore
    from service.app import create_app
    from service.settings import ServiceSettings
    from service.state import load_engine

    v1, v2 = versions
    keys_file = tmp_path / "keys.json"
    store = KeyStore(keys_file, database_url)
    keys = {name: store.create(role, inst)[0] for name, role, inst in [
        ("admin", "admin", None), ("owner", "officer", OWNER), ("other", "officer", OTHER)]}
    store.close()
    settings = ServiceSettings(index=indexes[1], keys_file=keys_file, database_url=database_url, reload_interval=0,
                               audit_log="")
    app = create_app(settings, engine=load_engine(settings, dict(fake_encoders)))

    def call(method: str, path: str, key: str, body: dict | None = None):
        return client.request(method, path, json=body, headers={"Authorization": f"Bearer {keys[key]}"})

    with TestClient(app) as client:
        made = call("POST", "/api/demands", "owner", {"text": QUERY, "owner": "kim@nuri.ac.kr"})
        assert made.status_code == 200, made.text
        mine = made.json()["id"]
        theirs = call("POST", "/api/demands", "other", {"text": QUERY, "filters": {"trl_min": 1}}).json()["id"]
        bad = call("POST", "/api/demands", "owner", {"text": QUERY, "filters": {"institutions": ["없는대학교"]}})
        assert bad.status_code == 422 and OWNER in bad.text
        assert call("POST", "/api/demands", "owner", {"filters": {}}).status_code == 422  # no text
        assert call("POST", "/api/demands", "owner", {"text": QUERY, "owner": "a\x00b"}).status_code == 422
        assert call("DELETE", f"/api/demands/{2**40}", "owner").status_code == 422
        listed = call("GET", "/api/demands", "owner").json()
        assert [d["id"] for d in listed] == [mine] and listed[0]["institution"] == OWNER
        assert listed[0]["owner"] == "kim@nuri.ac.kr"
        assert {d["id"] for d in call("GET", "/api/demands", "admin").json()} == {mine, theirs}
        assert call("DELETE", f"/api/demands/{mine}", "other").status_code == 404  # not theirs: as if absent
        assert call("GET", "/api/alerts", "owner").json() == []
        alerts_for_version(app.state.keys.state, v1, v2, top_k=5)
        alerts = call("GET", "/api/alerts", "owner").json()
        assert (mine, SECRET) in {(a["demand"], a["technology"]) for a in alerts}
        assert all(a["demand"] == mine and a["title"] and a["version"] == v2.name for a in alerts)
        theirs_alerts = call("GET", "/api/alerts", "other").json()
        assert theirs_alerts and SECRET not in {a["technology"] for a in theirs_alerts}
        assert call("GET", f"/api/alerts?since={v2.name}", "owner").json() == []
        assert len(call("GET", f"/api/alerts?since={v1.name}", "owner").json()) == len(alerts)
        assert client.get("/api/alerts").status_code == 401
        gone = call("DELETE", f"/api/demands/{mine}", "owner")
        assert gone.status_code == 200 and gone.json()["id"] == mine
        assert call("DELETE", f"/api/demands/{mine}", "owner").status_code == 404
        assert call("GET", "/api/alerts", "owner").json() == []
        assert call("DELETE", f"/api/demands/{theirs}", "admin").status_code == 200


def test_bad_owners_are_refused(state):
    from matcher.errors import ValidationError

    for bad in ("a\x00b", "x" * 301, "line\nbreak"):
        with pytest.raises(ValidationError, match="owner"):
            demand_table.save(state, text=QUERY, owner=bad)
    assert demand_table.save(state, text=QUERY, owner="  ")["owner"] is None
