"""matcher/files.py: atomic writes and JSON lines, the one copy the library and the service use."""

from __future__ import annotations

import os

import pytest

from matcher.errors import InputFileError
from matcher.files import (
    append_jsonl,
    atomic_write_json,
    atomic_write_text,
    iter_jsonl,
    json_line,
    read_jsonl,
    write_jsonl,
)


def test_atomic_write_replaces_whole_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "sub" / "CURRENT"
    atomic_write_text(target, "v1\n", fsync=True)
    atomic_write_text(target, "v2\n")
    assert target.read_text(encoding="utf-8") == "v2\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["CURRENT"]
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "data.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"a": object()})  # not JSON: fails before anything is written
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "\ud800")  # fails while writing the temporary file
    assert target.read_text(encoding="utf-8") == '{"a": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_json_lines_round_trip_and_a_bad_line_is_named(tmp_path):
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [{"제목": "로봇"}, {"n": 2}])
    append_jsonl(path, {"n": 3}, fsync=True)
    assert read_jsonl(path) == [{"제목": "로봇"}, {"n": 2}, {"n": 3}]
    assert "로봇" in path.read_text(encoding="utf-8")  # non-ASCII kept as is
    assert json_line({"a": 1, "b": 2}, compact=True) == '{"a":1,"b":2}\n'
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n{broken\n")
    with pytest.raises(InputFileError, match=r"rows\.jsonl: line 5 is not JSON"):
        read_jsonl(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_fast_json_lines_read_as_the_standard_library_reads_them(tmp_path):
    """orjson first, ``json`` for what it refuses: NaN, blank lines; CRLF endings; integers within 64 bits."""
    import json
    import math

    path = tmp_path / "rows.jsonl"
    lines = ['{"a": NaN}', "", '{"big": -9223372036854775808, "f": 1e-7}', "   ", '{"제목": "로봇 \\u00e9"}',
             '{"crlf": [1, 2.5, null, true]}\r', "\u3000"]
    path.write_bytes("\n".join(lines).encode("utf-8") + b"\n")
    rows = read_jsonl(path, fast=True)
    expected = read_jsonl(path)
    assert expected[1:] == [json.loads(line) for line in lines[1:] if line.strip()]
    assert math.isnan(rows[0]["a"]) and rows[1:] == expected[1:]
    assert [type(v) for r in rows[1:] for v in r.values()] == [type(v) for r in expected[1:] for v in r.values()]
    assert list(iter_jsonl(path, fast=True))[1][0] == 3  # line numbers as the file has them


@pytest.mark.parametrize("fast", [False, True])
def test_a_bad_line_is_named_fast_or_not(tmp_path, fast):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"n": 1}\n{"n": 2,}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"rows\.jsonl: line 2 is not JSON \(Expecting property name"):
        read_jsonl(path, fast=fast)
    path.write_bytes(b'{"n": 1}\n{"t": "\xff\xfe"}\n')
    with pytest.raises(InputFileError, match=r"rows\.jsonl: line 2 is not UTF-8"):
        read_jsonl(path, fast=True)
