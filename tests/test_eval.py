"""``matcher eval`` on a synthetic BEIR fixture (and on the real dev sets when present)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matcher.errors import InputFileError
from matcher.evaluation.beir import load_beir
from matcher.evaluation.trec import read_run
from tests.conftest import REPO, shared_path

MINI = REPO / "tests" / "fixtures" / "beir-mini"


def matcher(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, timeout=900)


def test_loader_keeps_judged_queries_only():
    ds = load_beir(MINI, "test")
    assert set(ds.queries) == {"q1", "q2", "q3", "q4"} and len(ds.corpus) == 6
    with pytest.raises(InputFileError, match="splits found: test"):
        load_beir(MINI, "train")


@pytest.mark.slow
def test_eval_cli_json_and_run_file(tmp_path: Path):
    run_file = tmp_path / "run.trec"
    proc = matcher("eval", "--beir", str(MINI), "--pipeline", "hybrid", "--pipeline", "bm25", "--json", "--quiet",
                   "--run", str(run_file), "--cache", str(tmp_path / "cache.sqlite"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("ndcg@10", "recall@10", "recall@100", "mrr@10"):
        assert 0.0 <= out[key] <= 1.0
    assert out["pipeline"] == "hybrid" and set(out["pipelines"]) == {"hybrid", "bm25"}
    assert out["recall@10"] == 1.0 and out["mrr@10"] > 0.8  # cross-lingual q2 included
    runs = {p: read_run(tmp_path / f"run.{p}.trec") for p in ("hybrid", "bm25")}
    first = (tmp_path / "run.hybrid.trec").read_text().splitlines()[0].split()
    assert len(first) == 6 and first[1] == "Q0" and first[3] == "1" and first[5] == "hybrid"
    assert set(runs["hybrid"]) == {"q1", "q2", "q3", "q4"}
    # warm: nothing embedded again
    again = json.loads(matcher("eval", "--beir", str(MINI), "--json", "--quiet",
                               "--cache", str(tmp_path / "cache.sqlite")).stdout)
    assert again["embedded"] == 0 and again["ndcg@10"] == out["ndcg@10"]


def test_eval_bad_directory_is_one_line(tmp_path):
    proc = matcher("eval", "--beir", str(tmp_path / "missing"))
    assert proc.returncode == 2 and "missing" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.shared
@pytest.mark.slow
def test_ko_title_bm25_on_real_dev_set(tmp_path):
    path = shared_path("ko-evals-dev", "ko-title")
    proc = matcher("eval", "--beir", str(path), "--pipeline", "bm25", "--json", "--quiet",
                   "--cache", str(tmp_path / "c.sqlite"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ndcg@10"] > 0.9
