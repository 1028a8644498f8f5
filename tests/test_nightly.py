"""``matcher nightly`` (issue 12): incremental re-index of the job config's sources behind a gate,
under a lock, crash-safe (fake encoders; the kill -9 test runs a real subprocess and is slow)."""

from __future__ import annotations

import configparser
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from matcher.jobs.config import load_config
from matcher.jobs.hooks import NoHooks
from matcher.jobs.lock import nightly_lock
from matcher.jobs.metrics import render
from matcher.jobs.nightly import run_nightly
from matcher.jobs.report import RUNS
from matcher.store import IndexStore, lifecycle
from matcher.store.staging import staging_root
from tests.conftest import DEMO, REPO
from tests.fakes import fake_encoders

DEMO_FILES = ("technologies.csv", "companies.csv", "institutions.csv", "demands.jsonl",
              "demands-handwritten.jsonl", "sources.toml")


def _setup(tmp_path: Path, extra: str = "") -> Path:
    """A source directory (a copy of the demo corpus) and a job config over it; the config's path."""
    src = tmp_path / "drop"
    src.mkdir()
    for name in DEMO_FILES:
        if (DEMO / name).exists():
            shutil.copy(DEMO / name, src / name)
    config = tmp_path / "job.toml"
    config.write_text(textwrap.dedent(f"""\
        index = "index"

        [[sources]]
        path = "drop"
        spec = "drop/sources.toml"
        {extra}
        """), encoding="utf-8")
    return config


def _rows(tmp_path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(tmp_path / "drop" / "technologies.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_rows(tmp_path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, header)
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "drop" / "technologies.csv").write_text(out.getvalue(), encoding="utf-8")


def _runs(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "index" / RUNS).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


class Recording(NoHooks):
    def __init__(self) -> None:
        self.refused: list[dict[str, Any]] = []
        self.published: list[tuple[str | None, str]] = []

    def after_publish(self, previous, current) -> int:  # type: ignore[no-untyped-def]
        self.published.append((previous.name if previous else None, current.name))
        return 2

    def on_refused(self, report: dict[str, Any]) -> None:
        self.refused.append(report)


@pytest.fixture(autouse=True)
def state_database(tmp_path, monkeypatch):
    """The run's default hooks (saved demands, alerts) keep their state in this test's own database."""
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)
    return url


@pytest.fixture
def job(tmp_path):
    """A job config over a copy of the demo corpus, its first run published; (config, first report)."""
    config = load_config(_setup(tmp_path), need_sources=True)
    first = run_nightly(config, encoders=fake_encoders())
    assert first.status == "published", first.to_dict()
    return config, first


def test_first_run_publishes_and_an_unchanged_drop_embeds_nothing(job, tmp_path):
    config, first = job
    assert first.added == 73 and first.changed == first.removed == 0 and first.embedded > 0
    assert first.exit_code == 0 and first.gate and first.gate["passed"]
    store = IndexStore(config.index_dir)
    assert store.current_name() == first.version
    encoders = fake_encoders()
    again = run_nightly(config, encoders=encoders)
    assert again.status == "unchanged" and again.exit_code == 0
    assert again.version == first.version and again.embedded == 0
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert store.versions() == [first.version]  # no version created
    assert sum(e.calls for e in encoders.values()) == 0  # nor anything encoded
    assert [r["status"] for r in _runs(tmp_path)] == ["published", "unchanged"]


def test_added_changed_removed_are_counted_and_only_those_embedded(job, tmp_path):
    config, first = job
    header, rows = _rows(tmp_path)
    rows[0]["abstract"] += " 추가된 문장입니다."
    removed = rows.pop(1)
    rows.append({**rows[2], "id": "DEMO-9001", "title": "새로 들어온 기술: 수소 연료전지 스택 냉각 구조"})
    _write_rows(tmp_path, header, rows)
    encoders = fake_encoders()
    hooks = Recording()
    report = run_nightly(config, encoders=encoders, hooks=hooks)
    assert report.status == "published", report.to_dict()
    assert (report.added, report.changed, report.removed) == (1, 1, 1)
    assert 0 < report.embedded < first.embedded / 4  # the cache holds every unchanged text
    assert report.tokenized == 2 and first.tokenized > 2  # the changed and the added text only
    assert report.to_dict()["tokenized"] == 2
    store = IndexStore(config.index_dir)
    assert store.current_name() == report.version != first.version
    ids = {t.id for t in store.load(encoders).technologies}
    assert "DEMO-9001" in ids and removed["id"] not in ids
    assert report.alerts == 2 and hooks.published == [(first.version, report.version)]


class Failing(NoHooks):
    def after_publish(self, previous, current) -> int:  # type: ignore[no-untyped-def]
        raise RuntimeError("smtp down")


def test_a_failing_hook_is_recorded_and_the_publish_stands(job, tmp_path):
    config, first = job
    header, rows = _rows(tmp_path)
    rows[0]["title"] += " (개정)"
    _write_rows(tmp_path, header, rows)
    report = run_nightly(config, encoders=fake_encoders(), hooks=Failing())
    assert report.status == "published" and report.exit_code == 0 and report.alerts == 0
    assert report.hook_errors == ["after_publish: RuntimeError: smtp down"]
    assert IndexStore(config.index_dir).current_name() == report.version != first.version


def test_the_run_keeps_the_active_versions_pipeline(tmp_path, monkeypatch):
    from matcher.build import build_index
    from matcher.ingest import Corpus
    from matcher.jobs.sources import read_sources
    from matcher.retrieval.config import PipelineConfig

    for name in ("MATCHER_PIPELINE", "MATCHER_ENCODER"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(_setup(tmp_path), need_sources=True)
    dense = PipelineConfig.dense_only("minilm")
    corpus = read_sources(config).corpus
    build_index(Corpus(technologies=corpus.technologies[:-1], companies=corpus.companies,
                       institutions=corpus.institutions, demands=corpus.demands),
                config.index_dir, dense, encoders=fake_encoders())
    report = run_nightly(config, encoders=fake_encoders())
    assert report.status == "published" and report.added == 1, report.to_dict()
    manifest = IndexStore(config.index_dir).read_manifest()
    assert manifest["pipeline"] == dense.to_dict() and list(manifest["encoders"]) == ["minilm"]


def test_a_legal_status_change_counts_as_changed(job, tmp_path):
    config, _ = job
    header, rows = _rows(tmp_path)
    rows[3]["legal_status"] = "소멸" if rows[3]["legal_status"] != "소멸" else "등록"
    _write_rows(tmp_path, header, rows)
    report = run_nightly(config, encoders=fake_encoders())
    assert report.status == "published"
    assert (report.added, report.changed, report.removed) == (0, 1, 0)
    assert report.embedded == 0  # the text is unchanged: every vector from the cache
    loaded = IndexStore(config.index_dir).load(fake_encoders())
    assert loaded.technologies[loaded.position_of(rows[3]["id"])].legal_status == rows[3]["legal_status"]


def test_a_missing_source_fails_the_run_naming_it(job, tmp_path):
    config, first = job
    extra = '\n[[sources]]\npath = "elsewhere/*.xml"\n'
    (tmp_path / "job.toml").write_text((tmp_path / "job.toml").read_text() + extra, encoding="utf-8")
    config = load_config(tmp_path / "job.toml", need_sources=True)
    report = run_nightly(config, encoders=fake_encoders())
    assert report.status == "failed" and report.exit_code == 1
    assert "elsewhere/*.xml" in (report.error or "") and "matches no file" in (report.error or "")
    assert report.removed == 0
    assert IndexStore(config.index_dir).current_name() == first.version
    # a source directory that vanished: named too
    shutil.rmtree(tmp_path / "drop")
    report = run_nightly(load_config(_setup_missing(tmp_path), need_sources=True), encoders=fake_encoders())
    assert report.status == "failed" and "'drop'" in (report.error or "") and "does not exist" in report.error


def test_an_unreadable_file_in_a_source_fails_the_run_naming_it(job, tmp_path):
    config, first = job
    (tmp_path / "xml").mkdir()
    (tmp_path / "xml" / "drop-01.xml").write_bytes(b"<kipris><item><title>broken")
    extra = '\n[[sources]]\npath = "xml/*.xml"\n'
    (tmp_path / "job.toml").write_text((tmp_path / "job.toml").read_text() + extra, encoding="utf-8")
    report = run_nightly(load_config(tmp_path / "job.toml"), encoders=fake_encoders())
    assert report.status == "failed", report.to_dict()
    assert "xml/*.xml" in (report.error or "") and "drop-01.xml" in (report.error or "")
    assert IndexStore(config.index_dir).current_name() == first.version


def _setup_missing(tmp_path: Path) -> Path:
    path = tmp_path / "job-missing.toml"
    path.write_text('index = "index"\n[[sources]]\npath = "drop"\n', encoding="utf-8")
    return path


def test_a_second_run_while_the_lock_is_held_is_busy(tmp_path):
    config = load_config(_setup(tmp_path), need_sources=True)
    encoders = fake_encoders()
    with nightly_lock(config.index_dir):
        report = run_nightly(config, encoders=encoders)
    assert report.status == "busy" and report.exit_code == 75
    assert "nightly.lock" in (report.error or "") and str(os.getpid()) in report.error
    assert sum(e.calls for e in encoders.values()) == 0 and IndexStore(config.index_dir).current_name() is None
    assert _runs(tmp_path)[-1]["status"] == "busy"
    assert run_nightly(config, encoders=encoders).status == "published"  # released: the next run works


def test_the_gate_refuses_a_large_drop_and_the_old_version_stays(job, tmp_path):
    config, first = job
    header, rows = _rows(tmp_path)
    _write_rows(tmp_path, header, rows[:50])  # 73 → 50: a drop of 31 % (max_drop 10 %)
    hooks = Recording()
    report = run_nightly(config, encoders=fake_encoders(), hooks=hooks)
    assert report.status == "refused" and report.exit_code == 3
    assert report.removed == 23 and report.version and report.version != first.version
    assert report.gate and report.gate["failed"] == "record_count"
    figures = next(c for c in report.gate["checks"] if c["check"] == "record_count")
    assert figures == {"check": "record_count", "passed": False, "count": 50, "previous": 73,
                       "drop": 0.3151, "max_drop": 0.1}
    assert "record_count" in report.text() and first.version in report.text()
    assert IndexStore(config.index_dir).current_name() == first.version
    assert hooks.refused and hooks.refused[0]["gate"]["failed"] == "record_count"
    assert _runs(tmp_path)[-1]["status"] == "refused"
    assert _runs(tmp_path)[-1]["gate"]["failed"] == "record_count"


def test_the_gate_refuses_poor_self_retrieval(job, tmp_path):
    config, first = job
    header, rows = _rows(tmp_path)
    for n in range(30):  # 30 records under one title: at most 10 of them can find themselves in a top 10
        rows.append({**rows[n], "id": f"DEMO-7{n:03d}", "title": "동일한 제목의 기술 Identical title",
                     "title_en": "", "abstract": f"내용 {n} " + rows[n]["abstract"]})
    _write_rows(tmp_path, header, rows)
    hooks = Recording()
    report = run_nightly(config, encoders=fake_encoders(), hooks=hooks)
    assert report.status == "refused" and report.exit_code == 3 and report.added == 30
    assert report.gate and report.gate["failed"] == "self_retrieval"
    check = next(c for c in report.gate["checks"] if c["check"] == "self_retrieval")
    assert check["share"] < check["minimum"] == 0.95 and check["sampled"] == 103
    assert check["found"] <= 103 - 20 and len(check["missed"]) == 10  # the first ten misses, by id
    assert IndexStore(config.index_dir).current_name() == first.version
    assert hooks.refused and hooks.published == []
    from matcher.jobs import gate

    assert gate.sample_ids(["a", "b", "c"], 2) == gate.sample_ids(["c", "b", "a"], 2)
    assert gate.record_count(90, 100, 0.10).passed and not gate.record_count(89, 100, 0.10).passed
    assert gate.record_count(5, None, 0.10).passed


def test_a_staged_version_that_does_not_load_is_refused(job, tmp_path, monkeypatch):
    from matcher.errors import VersionCheckError

    config, first = job
    header, rows = _rows(tmp_path)
    rows[0]["title"] += " (개정)"
    _write_rows(tmp_path, header, rows)

    def broken(store, name, encoders=None):  # type: ignore[no-untyped-def]
        raise VersionCheckError(f"index version {name!r} failed its check (vectors): 3 vectors for 73 rows")

    monkeypatch.setattr(lifecycle, "check_version", broken)
    report = run_nightly(config, encoders=fake_encoders())
    assert report.status == "refused" and report.exit_code == 3, report.to_dict()
    assert report.gate and report.gate["failed"] == "load" and "3 vectors" in report.gate["checks"][0]["error"]
    assert IndexStore(config.index_dir).current_name() == first.version


def test_after_a_rollback_the_next_run_diffs_against_the_active_version(job, tmp_path):
    config, first = job
    header, rows = _rows(tmp_path)
    rows[0]["title"] += " (개정)"
    _write_rows(tmp_path, header, rows)
    second = run_nightly(config, encoders=fake_encoders())
    assert second.status == "published" and second.changed == 1
    store = IndexStore(config.index_dir)
    lifecycle.rollback(store, by="test", encoders=fake_encoders())
    assert store.current_name() == first.version
    third = run_nightly(config, encoders=fake_encoders())
    assert third.previous == first.version  # against the active version, not the newest
    assert third.status == "published" and (third.added, third.changed, third.removed) == (0, 1, 0)
    assert third.embedded == 0  # the changed text was embedded by the second run: cached
    assert store.current_name() == third.version
    assert run_nightly(config, encoders=fake_encoders()).status == "unchanged"


def test_stale_staging_directories_are_removed(job, tmp_path):
    config, _ = job
    debris = staging_root(config.index_dir) / "0123456789abcdef0123"
    debris.mkdir(parents=True)
    (debris / "tokens.json").write_text("{}", encoding="utf-8")
    header, rows = _rows(tmp_path)
    rows[0]["title"] += " (개정)"
    _write_rows(tmp_path, header, rows)
    assert run_nightly(config, encoders=fake_encoders()).status == "published"
    assert not debris.exists()
    assert not any(staging_root(config.index_dir).iterdir())


def test_metrics_textfile(job, tmp_path):
    config, first = job
    metrics = tmp_path / "metrics" / "matcher.prom"
    report = run_nightly(config, encoders=fake_encoders(), metrics=metrics)
    text = metrics.read_text(encoding="utf-8")
    assert 'matcher_nightly_status{status="unchanged"} 1' in text
    assert 'matcher_nightly_status{status="published"} 0' in text
    assert 'matcher_nightly_records{kind="added"} 0' in text
    assert "matcher_nightly_embedded 0" in text
    stamp = float(next(line.split()[1] for line in text.splitlines()
                       if line.startswith("matcher_nightly_last_success_timestamp_seconds")))
    assert abs(stamp - report.finished) < 1
    rendered = render({"status": "refused", "added": 3, "seconds": 1.5}, None)
    assert "last_success" not in rendered and 'matcher_nightly_status{status="refused"} 1' in rendered
    assert "matcher_nightly_duration_seconds 1.500" in rendered


def test_cli_prints_json_and_exits_by_status(tmp_path, monkeypatch, capsys):
    import matcher.encoders
    from matcher.cli import main
    from tests.fakes import FakeEncoder

    fakes = fake_encoders()
    monkeypatch.setattr(matcher.encoders, "load_encoder", lambda name, *a, **k: fakes.get(name) or FakeEncoder(name))
    config = _setup(tmp_path)
    assert main(["nightly", "--config", str(config), "--json", "--metrics", str(tmp_path / "m.prom")]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["status"] == "published" and data["added"] == 73
    assert set(data) >= {"status", "version", "added", "changed", "removed", "embedded", "alerts", "seconds"}
    stages = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {s["stage"] for s in stages} >= {"ingest", "diff", "build", "gate", "activate", "run"}
    assert (tmp_path / "m.prom").is_file()
    assert main(["nightly", "--config", str(config)]) == 0
    out, _ = capsys.readouterr()
    assert "nightly: ingest" in out and "unchanged" in out
    with nightly_lock(load_config(config).index_dir):
        assert main(["nightly", "--config", str(config), "--json"]) == 75
    assert json.loads(capsys.readouterr().out)["status"] == "busy"
    bad = tmp_path / "bad.toml"
    bad.write_text('index = "index"\n', encoding="utf-8")
    assert main(["nightly", "--config", str(bad)]) == 2
    assert "[[sources]]" in capsys.readouterr().err


# --------------------------------------------------------------------------- kill -9 mid-embed (slow)
_DRIVER = """
import sys, time
from pathlib import Path
import matcher.encoders
from matcher.encoders.cache import CachedEncoder
from tests.fakes import FakeEncoder

count = Path(sys.argv[2])


class Slow(FakeEncoder):
    def encode_documents(self, texts, *, progress=False):
        out = super().encode_documents(texts, progress=progress)
        with open(count, "a") as fh:
            fh.write(f"{len(texts)}\\n")
        time.sleep(0.3)
        return out


fakes = {"minilm": Slow("minilm", 64), "use-m3": Slow("use-m3", 80)}
matcher.encoders.load_encoder = lambda name, *a, **k: fakes[name]
CachedEncoder.__init__.__kwdefaults__ = {"chunk_size": 8}
from matcher.cli import main
raise SystemExit(main(["nightly", "--config", sys.argv[1], "--quiet"]))
"""


@pytest.mark.slow
def test_kill_9_mid_embed_then_the_next_run_resumes(job, tmp_path):
    config, first = job
    header, rows = _rows(tmp_path)
    for n in range(6):  # 6 new records: more than one chunk of 8 per encoder
        rows.append({**rows[n], "id": f"DEMO-8{n:03d}", "title": f"새 기술 {n}: {rows[n]['title']}",
                     "abstract": rows[n]["abstract"] + f" 변형 {n}."})
    for row in rows[10:16]:
        row["abstract"] += " 수정됨."
    _write_rows(tmp_path, header, rows)
    # the control: the same run uninterrupted, over a copy of the index, embeds `total`
    shutil.copytree(tmp_path / "index", tmp_path / "control")
    control = tmp_path / "control.toml"
    control.write_text((tmp_path / "job.toml").read_text().replace('"index"', '"control"'), encoding="utf-8")
    total = run_nightly(load_config(control), encoders=fake_encoders()).embedded
    assert total > 16
    driver, count = tmp_path / "driver.py", tmp_path / "embedded.txt"
    driver.write_text(_DRIVER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, str(driver), str(config.base / "job.toml"), str(count)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and (not count.exists() or len(count.read_text().split()) < 2):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.05)
    assert count.exists(), "the driver never embedded"
    time.sleep(0.35)  # the second chunk is in the cache
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed_embedded = sum(int(n) for n in count.read_text().split())
    store = IndexStore(config.index_dir)
    assert store.current_name() == first.version  # still serving the old version
    assert store.load(fake_encoders()).technologies
    report = run_nightly(config, encoders=fake_encoders())  # the killed run's flock died with it: not busy
    assert report.status == "published", report.to_dict()
    assert (report.added, report.changed) == (6, 6)
    # the rest, not all again: at most the chunk in flight at the kill is embedded a second time
    assert 0 < report.embedded < total
    assert total <= report.embedded + killed_embedded <= total + 8
    assert not any(staging_root(config.index_dir).iterdir())  # no debris


# --------------------------------------------------------------------------- deploy/
DEPLOY = REPO / "deploy"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    return parser


def test_the_systemd_units_parse_and_hold_the_required_keys():
    service = _unit(DEPLOY / "matcher-nightly.service")
    assert service["Service"]["Type"] == "oneshot"
    assert "matcher nightly --config" in service["Service"]["ExecStart"]
    assert service["Service"]["WorkingDirectory"].startswith("/")
    assert "HF_HUB_OFFLINE=1" in service["Service"]["Environment"]
    timer = _unit(DEPLOY / "matcher-nightly.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "matcher nightly --config" in (DEPLOY / "crontab.example").read_text(encoding="utf-8")
    analyze = shutil.which("systemd-analyze")
    if analyze:  # the executable and user exist only where it is installed: any other complaint fails
        done = subprocess.run([analyze, "verify", str(DEPLOY / "matcher-nightly.service"),
                               str(DEPLOY / "matcher-nightly.timer")], capture_output=True, text=True, timeout=60)
        problems = [line for line in (done.stdout + done.stderr).splitlines()
                    if line.strip() and "is not executable" not in line and "/opt/matcher" not in line]
        assert not problems, problems


def test_the_example_config_reads_and_points_at_the_demo():
    config = load_config(DEPLOY / "nightly.example.toml", need_sources=True)
    assert config.index_dir.resolve() == (REPO / "var" / "demo" / "index").resolve()
    assert config.path(config.sources[0].path).resolve() == DEMO.resolve()
    assert config.path(config.sources[0].spec or "").is_file()


@pytest.mark.slow
def test_busy_across_processes_and_a_killed_holder_never_blocks(tmp_path):
    config = load_config(_setup(tmp_path), need_sources=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from matcher.jobs.lock import nightly_lock\n"
         f"with nightly_lock(Path({str(config.index_dir)!r})):\n    print('held', flush=True); time.sleep(600)"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "service.cli", "nightly", "--config", str(config.base / "job.toml"),
                               "--json"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 75, done.stderr
        assert json.loads(done.stdout)["status"] == "busy" and str(holder.pid) in json.loads(done.stdout)["error"]
        assert time.perf_counter() - started < 60  # at once: no models loaded, nothing read
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert run_nightly(config, encoders=fake_encoders()).status == "published"


def test_saved_demands_get_alerts_and_a_refusal_an_admin_alert(job, tmp_path, state_database):
    """The default hooks end to end: a saved demand alerts for the new record that enters its top 10, once;
    a refused run leaves an admin alert naming the failed check."""
    from matcher.state import alerts as alert_table
    from matcher.state import demands
    from matcher.state.store import StateStore

    config, first = job
    state = StateStore(state_database)
    saved = demands.save(state, text="수소 연료전지 스택 냉각 구조", owner="kim@example.org")
    header, rows = _rows(tmp_path)
    rows.append({**rows[2], "id": "DEMO-9001", "title": "수소 연료전지 스택 냉각 구조",
                 "abstract": "수소 연료전지 스택의 냉각 유로 구조", "legal_status": "등록", "confidential": "false"})
    _write_rows(tmp_path, header, rows)
    report = run_nightly(config, encoders=fake_encoders())
    assert report.status == "published" and report.alerts >= 1, report.to_dict()
    alerts = alert_table.listing(state, every=True)
    assert any(a["technology"] == "DEMO-9001" and a["demand"] == saved["id"] for a in alerts), alerts
    assert (config.path(config.alerts.digest_dir) / report.version).is_dir()  # digests written
    header, rows = _rows(tmp_path)
    _write_rows(tmp_path, header, rows[: len(rows) // 3])  # two thirds gone: over max_drop
    refused = run_nightly(config, encoders=fake_encoders())
    assert refused.status == "refused" and refused.exit_code == 3
    admin = alert_table.listing(state, kind="admin")
    assert any("failed the gate check" in (a.get("message") or "") for a in admin), admin
