"""The ``matcher`` command in-process over fake encoders: every subcommand's contract, in the fast lane.

The real-model, real-subprocess runs of the same commands are in ``test_cli.py`` and ``test_readme.py``
(slow lane); here ``matcher.encoders.load_encoder`` is replaced by the deterministic fakes of
``tests/fakes.py``, so the plumbing (arguments, JSON output, exit codes, error lines) is checked in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher import cli
from matcher.encoders.text import prepare
from tests.conftest import DEMO
from tests.fakes import FakeEncoder, fake_encoders

REPO = Path(__file__).resolve().parents[1]
MINI = REPO / "tests" / "fixtures" / "beir-mini"


@pytest.fixture(autouse=True)
def fakes(monkeypatch):
    made = dict(fake_encoders())
    monkeypatch.setattr("matcher.encoders.load_encoder", lambda name=None: made.get(name or "minilm")
                        or FakeEncoder(str(name)))
    return made


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """ingest + build of the demo corpus through the command, once per module."""
    root = tmp_path_factory.mktemp("cli-fast")
    mp = pytest.MonkeyPatch()
    made = dict(fake_encoders())
    mp.setattr("matcher.encoders.load_encoder", lambda name=None: made[name or "minilm"])
    try:
        assert cli.main(["ingest", str(DEMO), "--spec", str(DEMO / "sources.toml"), "--out", str(root / "corpus"),
                         "--quiet"]) == 0
        assert cli.main(["build", "--corpus", str(root / "corpus"), "--index", str(root / "index"), "--quiet"]) == 0
    finally:
        mp.undo()
    return root


def test_info_and_encoders(built, capsys):
    code, out, _ = run(capsys, "info", "--index", str(built / "index"), "--json")
    assert code == 0 and json.loads(out)["count"] > 0
    code, out, _ = run(capsys, "encoders", "--json")
    assert code == 0 and "minilm" in out


def test_search_match_bundles_licensees(built, capsys, tmp_path):
    index = str(built / "index")
    code, out, _ = run(capsys, "search", "--index", index, "배터리 관리", "--top-k", "3", "--json")
    assert code == 0 and len(json.loads(out)) == 3
    demand = tmp_path / "demand.json"
    demand.write_text(json.dumps({"requirements": ["실내 SLAM", "배터리 관리"]}), encoding="utf-8")
    code, out, _ = run(capsys, "match", "--index", index, "--demand", str(demand), "--json")
    assert code == 0 and {"matches", "no_good_match"} <= set(json.loads(out))
    code, out, _ = run(capsys, "bundles", "--index", index, "--demand", str(demand), "--json")
    assert code == 0 and {"requirements", "bundles", "verdict"} <= set(json.loads(out))
    code, out, _ = run(capsys, "licensees", "--index", index, "--technology", "DEMO-0001", "--json")
    assert code == 0 and "candidates" in json.loads(out)
    code, out, _ = run(capsys, "groups", "--index", index, "--json")
    assert code == 0


def test_bad_input_exits_2_with_one_line(built, capsys, tmp_path):
    code, _, err = run(capsys, "search", "--index", str(tmp_path / "none"), "robot")
    assert code == 2 and str(tmp_path / "none") in err and "Traceback" not in err
    code, _, err = run(capsys, "search", "--index", str(built / "index"), "!!!")
    assert code == 2 and "no letters or digits" in err
    code, _, err = run(capsys, "ingest", str(tmp_path / "missing.xml"), "--out", str(tmp_path / "o"))
    assert code == 2 and "missing.xml" in err


def test_keys_create_and_list(built, capsys, tmp_path):
    keys = tmp_path / "keys.json"
    code, out, _ = run(capsys, "keys", "create", "--role", "officer", "--institution", "누리대",
                       "--index", str(built / "index"), "--keys-file", str(keys), "--json")
    made = json.loads(out)  # stored hashed in state.sqlite beside the keys file (no keys file is written)
    assert code == 0 and all(made["key"].encode() not in f.read_bytes() for f in tmp_path.glob("state.sqlite*"))
    code, out, _ = run(capsys, "keys", "list", "--keys-file", str(keys), "--json")
    assert code == 0 and len(json.loads(out)) == 1 and made["key"] not in out
    code, out, _ = run(capsys, "keys", "revoke", made["id"], "--keys-file", str(keys), "--json")
    assert code == 0 and json.loads(out)["status"] == "revoked"
    code, _, err = run(capsys, "keys", "revoke", "key_nope", "--keys-file", str(keys))
    assert code == 2 and "key_nope" in err and made["id"] in err
    code, _, err = run(capsys, "keys", "create", "--role", "officer", "--expires", "soon", "--keys-file", str(keys))
    assert code == 2 and "30d" in err


def test_eval_beir_lexical_pipeline(capsys, tmp_path):
    code, out, _ = run(capsys, "eval", "--beir", str(MINI), "--pipeline", "bm25", "--json", "--quiet",
                       "--run", str(tmp_path / "run.trec"), "--cache", str(tmp_path / "c.sqlite"))
    assert code == 0 and 0.0 <= json.loads(out)["ndcg@10"] <= 1.0
    assert (tmp_path / "run.trec").read_text().split()[1] == "Q0"


def test_eval_with_a_forced_approximate_index(capsys, tmp_path):
    from matcher.retrieval.sample import DEFAULT_SAMPLE_SIZE

    code, out, _ = run(capsys, "eval", "--beir", str(MINI), "--json", "--quiet", "--index-backend", "hnsw",
                       "--stats-sample", "3", "--cache", str(tmp_path / "c.sqlite"))
    data = json.loads(out)
    assert code == 0 and data["index_backend"] == "hnsw" and data["stats_sample"] == 3
    assert 0.0 <= data["ndcg@10"] <= 1.0
    args = cli.build_parser().parse_args(["eval", "--beir", str(MINI)])
    assert (args.index_backend, args.stats_sample) == ("auto", DEFAULT_SAMPLE_SIZE)


def test_eval_pairs_with_an_encoder(capsys, tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("anchor,target,context,score\nbattery,battery cell,H01,1.0\nbattery,robot arm,H01,0.0\n"
                     "robot,robot arm,B25,0.75\nrobot,battery,B25,0.0\n", encoding="utf-8")
    code, out, _ = run(capsys, "eval", "--pairs", str(pairs), "--encoder", "minilm", "--json")
    assert code == 0 and "minilm" in out


def test_prepare_normalises_text():
    assert prepare("  Ｂａｔｔｅｒｙ\n\t관리  ") == "Battery 관리"
    assert prepare("Battery", lowercase=True) == "battery"
