"""Bad input never gives a traceback and nothing is lost without a count."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from matcher.errors import InputFileError
from matcher.ingest import ingest_paths
from matcher.records import MAX_FIELD_CHARS

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
HEADER = "id,title,abstract,applicants,application_date,trl\n"


def _accounted(report) -> None:
    assert report.read == report.ingested + report.duplicates + report.rejected
    for f in report.files:
        assert f.read == f.ingested + f.duplicates + f.rejected, f


def _good(tmp_path: Path) -> Path:
    path = tmp_path / "good.csv"
    path.write_text(
        HEADER + "G-1,가상 양호 기술,가상 요약입니다.,가나대학교 산학협력단,2020-01-01,3\n", encoding="utf-8"
    )
    return path


def test_truncated_xml_among_good_files(tmp_path: Path) -> None:
    text = (FIXTURES / "kipris_xml" / "acme" / "1.xml").read_text(encoding="utf-8")
    (tmp_path / "cut.xml").write_text(text[: len(text) // 2], encoding="utf-8")
    result = ingest_paths([tmp_path / "cut.xml", _good(tmp_path)])
    report = result.report
    [reject] = report.rejects
    assert reject.file.endswith("cut.xml") and reject.field == "(file)" and "line" in reject.reason
    cut_stats = report.files[0]
    assert cut_stats.ingested >= 1 and cut_stats.rejected == 1
    _accounted(report)


def test_truncated_before_any_item(tmp_path: Path) -> None:
    (tmp_path / "head.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<response><body><ite', encoding="utf-8"
    )
    report = ingest_paths([tmp_path / "head.xml", _good(tmp_path)]).report
    [reject] = report.rejects
    assert (reject.row, reject.field) == (0, "(file)") and "not well-formed XML" in reject.reason
    assert "line 2" in reject.reason
    _accounted(report)


def test_csv_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "no_title.csv"
    path.write_text("id,abstract\nX-1,요약만 있음\nX-2,또 요약\n", encoding="utf-8")
    spec = tmp_path / "spec.toml"
    spec.write_text(
        '[[source]]\n[source.columns]\nid = "id"\ntitle = "title"\nabstract = "abstract"\n', encoding="utf-8"
    )
    report = ingest_paths([path, _good(tmp_path)], spec=spec).report
    [reject] = report.rejects
    assert (
        reject.row == 0
        and "missing required column 'title'" in reject.reason
        and "'id', 'abstract'" in reject.reason
    )
    assert report.files[0].rejected == 2  # both data rows counted
    _accounted(report)


def test_empty_abstract_and_empty_title(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        HEADER
        + "A-1,제목만 있는 가상 기술,,,,\nA-2,,요약만 있는 가상 기술,,,\nA-3,,,,,\n,아이디 없는 기술,요약,,,\n",
        encoding="utf-8",
    )
    result = ingest_paths([path])
    assert [t.id for t in result.technologies] == ["A-1"]
    [warning] = result.report.warnings
    assert (warning.row, warning.field) == (1, "abstract") and "empty abstract" in warning.message
    reasons = {(r.row, r.field): r.reason for r in result.report.rejects}
    assert reasons == {
        (2, "title"): "missing title",
        (3, "title"): "title and abstract are both empty",
        (4, "id"): "missing id: no id and no 13-digit application number",
    }
    _accounted(result.report)


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        HEADER + "D-1,가상 기술 가,요약 가,,,\nD-1,가상 기술 가,요약 가,,,\nD-1,가상 기술 나,요약 나,,,\n",
        encoding="utf-8",
    )
    result = ingest_paths([path])
    assert [t.title for t in result.technologies] == ["가상 기술 가"]
    report = result.report
    assert report.duplicates == 2 and [(d.row, d.kept_row) for d in report.duplicates_list] == [
        (2, 1),
        (3, 1),
    ]
    [warning] = report.warnings
    assert (
        warning.row == 3
        and f"{path.as_posix()}:1" in warning.message
        and "title, abstract" in warning.message
    )
    _accounted(report)


def test_one_megabyte_field(tmp_path: Path) -> None:
    big = "가" * 1_048_576
    path = tmp_path / "big.csv"
    path.write_text(HEADER + f"B-1,가상 큰 기술,{big},,,\nB-2,가상 보통 기술,요약,,,\n", encoding="utf-8")
    jsonl = tmp_path / "big.jsonl"
    jsonl.write_text(
        json.dumps({"id": "J-1", "title": "가상", "abstract": big}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    result = ingest_paths([path, jsonl])
    assert [t.id for t in result.technologies] == ["B-2"]
    assert len(result.report.rejects) == 2
    for reject in result.report.rejects:
        assert reject.field == "abstract"
        assert (
            reject.reason
            == f"field 'abstract' is 1,048,576 characters, over the limit of {MAX_FIELD_CHARS:,}"
        )
    _accounted(result.report)


def test_empty_file_alone_and_among_others(tmp_path: Path) -> None:
    for name in ("empty.csv", "empty.xml", "empty.jsonl", "empty.xlsx"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(InputFileError, match="file is empty"):
            ingest_paths([tmp_path / name])
    with pytest.raises(InputFileError, match=r"nothing could be ingested \(read 4, ingested 0"):
        ingest_paths([tmp_path])  # only empty files
    good = _good(tmp_path)
    report = ingest_paths([tmp_path]).report  # with a good file beside them
    assert report.ingested == 1 and report.rejected == 4
    assert {r.file.rsplit("/", 1)[-1] for r in report.rejects} == {
        "empty.csv",
        "empty.xml",
        "empty.jsonl",
        "empty.xlsx",
    }
    assert all(r.row == 0 and r.field == "(file)" for r in report.rejects)
    assert good.exists()
    _accounted(report)


def test_binary_garbage(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 64 + os.urandom(2048)
    for name in ("noise.csv", "noise.xml", "noise.xlsx", "noise.jsonl"):
        (tmp_path / name).write_bytes(garbage)
    report = ingest_paths([tmp_path, _good(tmp_path)]).report
    assert report.ingested == 1
    reasons = {r.file.rsplit("/", 1)[-1]: r.reason for r in report.rejects}
    assert set(reasons) == {"noise.csv", "noise.xml", "noise.xlsx", "noise.jsonl"}
    assert "binary" in reasons["noise.csv"] and "binary" in reasons["noise.jsonl"]
    assert "xlsx" in reasons["noise.xlsx"]
    assert "internal error" not in " ".join(reasons.values())
    _accounted(report)


def test_nonexistent_path(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        ingest_paths([_good(tmp_path), tmp_path / "nope.csv"])
    assert caught.value.path.endswith("nope.csv") and "does not exist" in str(caught.value)


def test_directory_without_readable_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("가상 메모", encoding="utf-8")
    with pytest.raises(InputFileError, match="contains no readable files"):
        ingest_paths([tmp_path])


def test_unsupported_file_given_explicitly(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("가상 메모", encoding="utf-8")
    report = ingest_paths([tmp_path / "notes.txt", _good(tmp_path)]).report
    [reject] = report.rejects
    assert "unsupported file type '.txt'" in reject.reason
    _accounted(report)


def test_bad_values_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        HEADER
        + "V-1,가상 날짜 오류 기술,요약,,2020-13-45,\n"  # bad date: dropped with a warning, row kept
        + "V-2,가상 TRL 오류 기술,요약,,,12\n"  # invalid TRL: rejected
        + "V-3,가상 칸 초과 기술,요약,,,,여분\n"  # more cells than the header: rejected
        + "bad id!,가상 아이디 오류,요약,,,\n",  # invalid id: rejected
        encoding="utf-8",
    )
    result = ingest_paths([path])
    [kept] = result.technologies
    assert kept.id == "V-1" and kept.application_date is None
    [warning] = result.report.warnings
    assert warning.field == "application_date" and "'2020-13-45' is not a real date" in warning.message
    reasons = {r.row: (r.field, r.reason) for r in result.report.rejects}
    assert reasons[2][0] == "trl" and "1-9" in reasons[2][1]
    assert reasons[3][0] == "(row)" and "7 cells but the header has 6" in reasons[3][1]
    assert reasons[4][0] == "id"
    _accounted(result.report)


def test_bad_jsonl_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"id": "J-1", "title": "가상 기술"}\nnot json\n[1, 2]\n\n{"id": "J-2", "title": "가상 기술 2", "trl": 3}\n',
        encoding="utf-8",
    )
    report = ingest_paths([path]).report
    assert report.ingested == 2 and report.rejected == 2 and report.read == 4
    assert [r.row for r in report.rejects] == [2, 3]


def test_nothing_usable_names_the_problems(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(HEADER + ",,,,,\n,제목,,,,\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        ingest_paths([path])
    assert "nothing could be ingested" in str(caught.value) and "missing id" in str(caught.value)
