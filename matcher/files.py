"""Files written whole or not at all, and JSON lines: the one copy of each for the library and the service.

:func:`atomic_write_text` writes beside the target, then ``os.replace`` s it in, so a reader sees the old file
or the new one, never half of one (``fsync=True``: on disk, directory entry too, before it returns).
JSON lines are UTF-8, one object per line, non-ASCII kept as is; :func:`iter_jsonl` names the file and the
line of anything that is not JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from matcher.errors import InputFileError


def fsync_dir(path: str | Path) -> None:
    """Flush ``path``'s directory entries (a rename into it) to disk, where the platform allows."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path: str | Path, *, fsync: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write in any way (``np.save``, a stream of lines); moved onto
    ``path`` with ``os.replace`` when the block succeeds, removed when it fails. The directory is created
    when missing; ``fsync=True``: file and directory entry on disk before the block's end returns."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        yield temp
        if fsync:
            with open(temp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_dir(target.parent)


def atomic_write_text(path: str | Path, text: str, *, fsync: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: a temporary file beside it, then ``os.replace``.

    The directory is created when missing; the file gets the usual permissions (umask); the temporary
    file is removed when anything fails."""
    with replacing(path, fsync=fsync) as temp, open(temp, "x", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return Path(path)


def atomic_write_json(path: str | Path, data: Any, *, indent: int | None = None, fsync: bool = False) -> Path:
    """``data`` as JSON (non-ASCII kept, a final newline), written atomically."""
    return atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=indent) + "\n", fsync=fsync)


def json_line(row: Any, *, compact: bool = False) -> str:
    """``row`` as one JSON line (with its newline); ``compact``: no spaces after separators."""
    separators = (",", ":") if compact else None
    return json.dumps(row, ensure_ascii=False, separators=separators) + "\n"


def write_jsonl(path: str | Path, rows: Iterable[Any]) -> None:
    """Write ``rows`` to ``path`` as JSON lines (replacing it; not atomic: write into a staging place)."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json_line(row))


def append_jsonl(path: str | Path, row: Any, *, fsync: bool = False) -> None:
    """Append ``row`` to ``path`` as one JSON line (``fsync``: on disk before it returns)."""
    with open(path, "a", encoding="utf-8", newline="\n") as fh:
        fh.write(json_line(row))
        if fsync:
            fh.flush()
            os.fsync(fh.fileno())


def _json_value(line: str, number: int, path: str | Path) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputFileError(Path(path), f"line {number} is not JSON ({exc.msg})") from None


def _fast_json_value(raw: bytes, number: int, path: str | Path) -> tuple[bool, Any]:
    """``(False, None)`` for a blank line, else ``(True, value)``: orjson, and the standard library for what
    orjson refuses (NaN, a blank line, an error message to name)."""
    try:
        return True, orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(Path(path), f"line {number} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return (True, _json_value(line, number, path)) if line.strip() else (False, None)


def iter_jsonl(path: str | Path, *, fast: bool = False) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` of each non-blank line of ``path``; :class:`InputFileError` naming the line
    when one is not JSON.

    ``fast``: parsed by orjson, several times faster than ``json`` on long non-ASCII text (a 1M-record index
    version's records), for files of a known shape only: lines end at ``\\n`` alone, and an integer beyond
    64 bits is read as a float."""
    if fast:
        yield from _iter_fast(path)
        return
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, _json_value(line, number, path)


def _iter_fast(path: str | Path) -> Iterator[tuple[int, Any]]:
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            present, value = _fast_json_value(raw, number, path)
            if present:
                yield number, value


def read_jsonl(path: str | Path, *, fast: bool = False) -> list[Any]:
    """Every value of ``path``'s JSON lines (see :func:`iter_jsonl`)."""
    return [value for _, value in iter_jsonl(path, fast=fast)]
