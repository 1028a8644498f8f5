"""The ``matcher`` command end to end on the demo corpus, as a user runs it (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO

MATCHER = [sys.executable, "-m", "service.cli"]


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*MATCHER, *args], capture_output=True, text=True, timeout=600)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


def test_console_script_installed():
    script = Path(sys.executable).parent / "matcher"
    assert script.exists(), "the 'matcher' console script is not installed beside the interpreter"


@pytest.mark.slow
def test_ingest_build_search(workdir):
    corpus, index = workdir / "corpus", workdir / "index"
    ingest = json.loads(run("ingest", str(DEMO), "--spec", str(DEMO / "sources.toml"), "--out", str(corpus),
                            "--json", "--quiet").stdout)
    for key in ("read", "ingested", "duplicates", "rejected"):
        assert isinstance(ingest[key], int)
    assert ingest["read"] == ingest["ingested"] + ingest["duplicates"] + ingest["rejected"]
    assert ingest["ingested"] >= 40

    first = json.loads(run("build", "--corpus", str(corpus), "--index", str(index), "--json", "--quiet").stdout)
    technologies = len((corpus / "technologies.jsonl").read_text(encoding="utf-8").splitlines())
    assert first["count"] == technologies and first["embedded"] >= first["count"]  # documents, and vocabulary terms
    second = json.loads(run("build", "--corpus", str(corpus), "--index", str(index), "--json", "--quiet").stdout)
    assert second["embedded"] == 0 and second["count"] == first["count"]

    hits = json.loads(run("search", "--index", str(index), "battery management for robots", "--top-k", "5",
                          "--json").stdout)
    assert len(hits) == 5
    assert all({"id", "score", "title"} <= set(h) for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    text = run("search", "--index", str(index), "autonomous mobile robot").stdout
    assert text.strip().splitlines()[0].lstrip().startswith("1.")

    info = json.loads(run("info", "--index", str(index), "--json").stdout)
    assert info["count"] == first["count"] and len(info["versions"]) == 2


@pytest.mark.slow
def test_search_with_other_encoder_refused(workdir):
    dense = workdir / "dense-index"
    run("build", "--corpus", str(workdir / "corpus"), "--index", str(dense), "--encoder", "minilm", "--quiet")
    proc = run("search", "--index", str(dense), "robot", "--encoder", "use-m3", ok=False)
    assert proc.returncode == 2
    assert "configured encoder is 'use-m3" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ingest", "/no/such/file.xml", "--out", "OUT"], "/no/such/file.xml"),
        (["search", "--index", "/no/such/index", "robot"], "/no/such/index"),
        (["build", "--corpus", "/no/such/corpus", "--index", "IDX"], "/no/such/corpus"),
    ],
)
@pytest.mark.slow
def test_failures_are_one_line_naming_the_file(args, needle, tmp_path):
    args = [a.replace("OUT", str(tmp_path / "out")).replace("IDX", str(tmp_path / "idx")) for a in args]
    proc = run(*args, ok=False)
    assert proc.returncode != 0
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.slow
def test_nothing_usable_exits_non_zero(tmp_path):
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\x00\x01 not xml at all \xff")
    proc = run("ingest", str(garbage), "--out", str(tmp_path / "out"), "--json", ok=False)
    assert proc.returncode != 0 and "garbage.xml" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_comes_from_the_service():
    """``matcher`` as installed is ``service.cli:main``: the library's parser plus ``serve`` (the library
    never imports the service, so its own parser has no ``serve``)."""
    import tomllib

    from matcher import cli as library_cli
    from service import cli as service_cli

    scripts = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["matcher"] == "service.cli:main"
    args = service_cli.build_parser().parse_args(["serve", "--index", "IDX", "--port", "8123"])
    assert (args.command, args.index, args.port, args.func) == ("serve", "IDX", 8123, service_cli.cmd_serve)
    with pytest.raises(SystemExit):
        library_cli.build_parser().parse_args(["serve", "--index", "IDX"])
    assert library_cli.build_parser().parse_args(["info", "--index", "IDX"]).command == "info"
