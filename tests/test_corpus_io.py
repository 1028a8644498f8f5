"""Corpus directory: write_corpus and read_corpus mirror each other; writes are atomic."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from matcher.errors import InputFileError
from matcher.ingest import IngestReport, ingest_paths, read_corpus, write_corpus

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


@pytest.fixture
def result():
    return ingest_paths([FIXTURES / "kipris_xml", FIXTURES / "crawl_sample.csv"])


def test_round_trip(tmp_path: Path, result) -> None:
    out = write_corpus(tmp_path / "corpus", result)
    assert sorted(p.name for p in out.iterdir()) == [
        "companies.jsonl", "demands.jsonl", "institutions.jsonl", "rejects.csv", "report.json", "technologies.jsonl",
    ]  # fmt: skip
    corpus = read_corpus(out)
    assert corpus.technologies == result.technologies
    assert corpus.companies == [] and corpus.institutions == [] and corpus.demands == []
    assert corpus.report is not None and corpus.report.to_dict() == result.report.to_dict()
    first = json.loads((out / "technologies.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["id"] == result.technologies[0].id and "가" <= first["title"][0]  # not ASCII-escaped


def test_all_kinds_round_trip(tmp_path: Path) -> None:
    result = ingest_paths([], spec=FIXTURES / "generic" / "sources.toml")
    corpus = read_corpus(write_corpus(tmp_path / "c", result))
    assert (corpus.technologies, corpus.companies, corpus.institutions, corpus.demands) == (
        result.technologies, result.companies, result.institutions, result.demands,
    )  # fmt: skip


def test_report_json_contract(tmp_path: Path, result) -> None:
    out = write_corpus(tmp_path / "corpus", result)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(report) == {
        "read",
        "ingested",
        "duplicates",
        "rejected",
        "by_file",
        "rejects",
        "duplicates_list",
        "warnings",
        "company_merges",
    }
    assert report["read"] == report["ingested"] + report["duplicates"] + report["rejected"]
    assert set(report["by_file"][0]) == {
        "file",
        "format",
        "encoding",
        "read",
        "ingested",
        "duplicates",
        "rejected",
    }
    assert set(report["duplicates_list"][0]) == {"id", "file", "row", "kept_file", "kept_row"}


def test_rejects_csv_opens_in_excel(tmp_path: Path) -> None:
    bad = tmp_path / "in" / "t.csv"
    bad.parent.mkdir()
    bad.write_text("id,title\nR-1,가상 기술\nR-2,\n", encoding="utf-8")
    out = write_corpus(tmp_path / "corpus", ingest_paths([bad]))
    raw = (out / "rejects.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Korean
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows == [
        ["file", "row", "field", "reason"],
        [bad.as_posix(), "2", "title", "title and abstract are both empty"],
    ]


def test_rewrite_replaces_atomically(tmp_path: Path, result) -> None:
    out = tmp_path / "corpus"
    write_corpus(out, result)
    smaller = ingest_paths([FIXTURES / "crawl_sample.csv"])
    write_corpus(out, smaller)
    assert read_corpus(out).technologies == smaller.technologies
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # no temp or old directories left


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path, result) -> None:
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputFileError, match="refusing to replace"):
        write_corpus(tmp_path, result)
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"


def test_report_from_dict_mirrors_to_dict(result) -> None:
    data = result.report.to_dict()
    assert IngestReport.from_dict(data).to_dict() == data


def test_read_errors_name_the_problem(tmp_path: Path, result) -> None:
    with pytest.raises(InputFileError, match="corpus directory does not exist"):
        read_corpus(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="is not a corpus directory"):
        read_corpus(tmp_path / "empty")
    out = write_corpus(tmp_path / "corpus", result)
    lines = (out / "technologies.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])
    record["title"] = "변조된 제목"  # content_hash no longer matches
    lines[1] = json.dumps(record, ensure_ascii=False)
    (out / "technologies.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"technologies\.jsonl: line 2: field 'content_hash'"):
        read_corpus(out)
    (out / "technologies.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="line 1 is not JSON"):
        read_corpus(out)
