"""The one-time import of a keys JSON file (``{"format": "matcher-keys", "keys": [{id, role, institution,
sha256, created}]}``, what ``matcher keys`` wrote before the state store) into ``api_keys``.

A file is imported once: its absolute path is recorded in ``legacy_imports`` and never read again (the
file is left in place; a log line says it was imported). Keys whose id is already in the store are skipped,
so an import interrupted half-way, or the same keys under another path, do not duplicate.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select

from matcher.access import ROLES
from matcher.errors import ConfigError, InputFileError
from matcher.state.schema import api_keys, legacy_imports
from matcher.state.store import StateStore
from matcher.state.times import parse_time, utcnow

log = logging.getLogger("matcher.state")
FILE_FORMAT = "matcher-keys"


def read_keys_file(path: Path) -> list[dict[str, Any]]:
    """The key records of a keys JSON file; ``InputFileError`` naming the file when it is not one."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read the keys file ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT or not isinstance(
        payload.get("keys"), list
    ):
        raise InputFileError(path, f"not a key file (expected a JSON object with format {FILE_FORMAT!r})")
    return [k for k in payload["keys"] if isinstance(k, dict) and isinstance(k.get("sha256"), str)
            and isinstance(k.get("id"), str) and k.get("role") in ROLES]


def import_keys_file(store: StateStore, path: str | Path) -> int | None:
    """Import ``path`` once; the number of keys imported, or ``None`` when it is absent or was imported."""
    path = Path(path)
    if not path.is_file():
        return None
    source = str(path.resolve())
    with store.reading() as conn:
        if conn.execute(select(legacy_imports.c.source).where(legacy_imports.c.source == source)).first():
            return None
    records = read_keys_file(path)
    now = utcnow()
    with store.writing() as conn:  # one transaction: the keys and the record that they were imported
        if conn.execute(select(legacy_imports.c.source).where(legacy_imports.c.source == source)).first():
            return None  # another process imported it meanwhile
        have = set(conn.execute(select(api_keys.c.id)).scalars())
        hashes = set(conn.execute(select(api_keys.c.secret_hash)).scalars())
        rows = []
        for record in records:
            if record["id"] in have or record["sha256"] in hashes:
                continue
            try:
                created = parse_time(str(record.get("created") or ""))
            except ConfigError:
                created = now
            rows.append({"id": record["id"], "secret_hash": record["sha256"], "role": record["role"],
                         "institution": record.get("institution") or None, "label": "imported from " + path.name,
                         "created": created})
            have.add(record["id"])
            hashes.add(record["sha256"])
        if rows:
            conn.execute(api_keys.insert(), rows)
        conn.execute(legacy_imports.insert().values(source=source, imported=now, keys=len(rows)))
    log.warning("imported %d API key(s) from %s into the state database %s; the file is no longer read "
                "(it is left in place and may be deleted)", len(rows), path, store.description)
    return len(rows)
