"""matcher/files.py: atomic writes and JSON lines, the one copy the library and the service use."""

from __future__ import annotations

import os

import pytest

from matcher.errors import InputFileError
from matcher.files import (
    append_jsonl,
    atomic_write_json,
    atomic_write_text,
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
