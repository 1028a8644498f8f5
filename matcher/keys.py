"""API keys: created once, shown once, stored only as SHA-256 hashes in a JSON file.

``KeyStore(path)`` keeps ``{"format": "matcher-keys", "version": 1, "keys": [{id, role, institution,
sha256, created}]}``. The file is written atomically (temporary file, then ``os.replace``) with mode
0600, and re-read whenever its modification time or size changes, so a key created with
``matcher keys create`` while the service runs is accepted at once. The plaintext key is never stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from matcher.access import ROLES, Viewer
from matcher.errors import ConfigError, InputFileError

FILE_FORMAT = "matcher-keys"
FILE_VERSION = 1
KEY_PREFIX = "mk_"
#: where ``matcher keys``, ``matcher serve`` and ``scripts/demo.sh`` keep the keys unless told otherwise
DEFAULT_KEYS_FILE = Path("var/keys.json")
KEYS_FILE_ENV = "MATCHER_KEYS_FILE"


def keys_file_from_env(given: str | Path | None = None) -> Path:
    """``given`` (e.g. ``--keys-file``), else ``MATCHER_KEYS_FILE``, else :data:`DEFAULT_KEYS_FILE`."""
    return Path(given or os.environ.get(KEYS_FILE_ENV) or DEFAULT_KEYS_FILE)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """API keys in one JSON file (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._records: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ reading
    def _read(self) -> list[dict[str, Any]]:
        try:
            payload = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except json.JSONDecodeError as exc:
            raise InputFileError(self.path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT or not isinstance(
            payload.get("keys"), list
        ):
            raise InputFileError(self.path, f"not a key file (expected a JSON object with format {FILE_FORMAT!r})")
        return [k for k in payload["keys"] if isinstance(k, dict) and isinstance(k.get("sha256"), str)]

    def records(self) -> list[dict[str, Any]]:
        """The stored key records (hashes included), re-read when the file changed."""
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._records = self._read() if stamp is not None else []
                self._stamp = stamp
            return list(self._records)

    def listing(self) -> list[dict[str, Any]]:
        """The key records without their hashes."""
        return [{k: v for k, v in r.items() if k != "sha256"} for r in self.records()]

    def verify(self, key: str) -> Viewer | None:
        """The viewer a key stands for, or ``None`` for an unknown key (constant-time comparison)."""
        found = self.authenticate(key)
        return found[1] if found is not None else None

    def authenticate(self, key: str) -> tuple[dict[str, Any], Viewer] | None:
        """``(record without hash, viewer)`` for a known key (the record's ``id`` names the key in logs),
        or ``None`` for an unknown key (constant-time comparison)."""
        if not isinstance(key, str) or not key:
            return None
        digest = hash_key(key)
        found = None
        for record in self.records():
            if hmac.compare_digest(digest, record["sha256"]):
                found = record
        if found is None:
            return None
        try:
            viewer = Viewer(role=found.get("role", ""), institution=found.get("institution"))
        except ConfigError:
            return None
        return {k: v for k, v in found.items() if k != "sha256"}, viewer

    # ------------------------------------------------------------------ writing
    def create(self, role: str, institution: str | None = None) -> tuple[str, dict[str, Any]]:
        """A new key for ``role`` (bound to ``institution`` when given): ``(key, record without hash)``."""
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
        institution = institution.strip() if institution else None
        Viewer(role, institution)  # validates
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = {"id": "key_" + secrets.token_hex(6), "role": role, "institution": institution,
                  "sha256": hash_key(key), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._file_lock():
            records = self._read()
            records.append(record)
            self._write(records)
        return key, {k: v for k, v in record.items() if k != "sha256"}

    @contextlib.contextmanager
    def _file_lock(self) -> Any:
        """Serialise writers (two ``create`` calls at once must not lose a key)."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - not POSIX
                pass
            yield
        finally:
            os.close(fd)

    def _write(self, records: list[dict[str, Any]]) -> None:
        payload = {"format": FILE_FORMAT, "version": FILE_VERSION, "keys": records}
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, ensure_ascii=False, indent=1)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
