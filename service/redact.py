"""What officers may not see of the server: file paths in an index manifest.

A manifest records where things came from on the machine that built it (``corpus_dir``, an encoder's
model directory, caches). :func:`without_server_paths` drops, at any depth, the entries named in
:data:`PATH_KEYS` and every string that looks like a filesystem path (absolute, home-relative,
``./``/``../``, a Windows drive or a ``file:`` URL); file names inside the index version (``bm25.npz``)
stay. :func:`technology_for_officers` keeps only the file name of a record's ``source_file``. Admins see
both as they are.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

#: manifest keys whose values are server paths, whatever they hold
PATH_KEYS = frozenset({"path", "paths", "source", "sources", "corpus_dir", "corpus_path", "cache", "cache_path",
                       "cache_dir", "keys_file", "index_dir", "root", "directory", "model_path", "audit_log"})
_PATHLIKE = re.compile(r"^(?:/|~|\.{1,2}/|[A-Za-z]:[\\/]|\\\\|file:)")


def is_server_path(value: object) -> bool:
    return isinstance(value, str) and bool(_PATHLIKE.match(value.strip()))


def without_server_paths(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) without server paths (see the module docstring)."""
    if isinstance(value, dict):
        return {k: without_server_paths(v) for k, v in value.items()
                if str(k).lower() not in PATH_KEYS and not is_server_path(v)}
    if isinstance(value, list | tuple):
        return [without_server_paths(v) for v in value if not is_server_path(v)]
    return value


def technology_for_officers(record: dict[str, Any]) -> dict[str, Any]:
    """A technology record without the server path it was ingested from: ``source_file`` keeps only the
    file's name (``../shared/data/x/1.xml`` → ``1.xml``)."""
    source = record.get("source_file")
    if not isinstance(source, str) or not source:
        return record
    return {**record, "source_file": PurePath(source.replace("\\", "/")).name}
