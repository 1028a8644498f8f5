"""Typed service settings, read from the environment when asked (``MATCHER_*``), never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from matcher.errors import ConfigError
from matcher.keys import DEFAULT_KEYS_FILE, keys_file_from_env  # one default for the service and the CLI
from matcher.state.url import DATABASE_URL_ENV, default_database_url, normalise

#: the default request body limit: the largest body the request schemas accept (a 5,000-character text
#: and 20 requirements of 2,000 characters, JSON-escaped Korean) is about 270 KB
DEFAULT_MAX_BODY_BYTES = 512 * 1024
#: ``audit_log`` default: ``audit.jsonl`` in the keys file's directory
AUDIT_BESIDE_KEYS = "beside-keys"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
__all__ = ["DEFAULT_KEYS_FILE", "ServiceSettings", "keys_file_from_env"]


@dataclass(frozen=True)
class ServiceSettings:
    index: Path
    encoder: str | None = None          # None: the encoder the index was built with
    max_top_k: int = 100
    max_query_chars: int = 5000
    keys_file: Path = DEFAULT_KEYS_FILE  # API keys (hashed); see matcher/keys.py
    reload_interval: float = 2.0        # seconds between checks for a newly published index version; 0: never
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger request bodies are refused (413) before they are read
    audit_log: Path | str | None = AUDIT_BESIDE_KEYS  # one JSON line per /api call; None or "": no audit log
    audit_queries: bool = False         # also record the query / demand texts in the audit log
    # the state store (keys, ...): a database URL (MATCHER_DATABASE_URL); None: sqlite state.sqlite beside keys_file
    database_url: str | None = field(default=None, repr=False)  # not in repr: it may hold a password

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", Path(self.index))
        object.__setattr__(self, "keys_file", Path(self.keys_file))
        object.__setattr__(self, "database_url", normalise(self.database_url or default_database_url(self.keys_file)))
        if not isinstance(self.reload_interval, int | float) or self.reload_interval < 0:
            raise ConfigError(f"reload_interval must be a number of seconds >= 0, got {self.reload_interval!r}")
        if isinstance(self.max_body_bytes, bool) or not isinstance(self.max_body_bytes, int) or self.max_body_bytes < 1:
            raise ConfigError(f"max_body_bytes must be a whole number of bytes >= 1, got {self.max_body_bytes!r}")
        audit = self.audit_log
        if audit == AUDIT_BESIDE_KEYS:
            audit = self.keys_file.parent / "audit.jsonl"
        object.__setattr__(self, "audit_log", Path(audit) if audit else None)
        if not isinstance(self.audit_queries, bool):
            raise ConfigError(f"audit_queries must be true or false, got {self.audit_queries!r}")

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        values: dict[str, object] = {
            "index": Path(os.environ.get("MATCHER_INDEX", "var/demo/index")),
            "encoder": os.environ.get("MATCHER_ENCODER") or None,
            "keys_file": keys_file_from_env(),
            "database_url": os.environ.get(DATABASE_URL_ENV, "").strip() or None,
        }
        interval = os.environ.get("MATCHER_RELOAD_INTERVAL")
        if interval:
            try:
                values["reload_interval"] = float(interval)
            except ValueError:
                raise ConfigError(f"MATCHER_RELOAD_INTERVAL must be a number of seconds, got {interval!r}") from None
        size = os.environ.get("MATCHER_MAX_BODY_BYTES")
        if size:
            try:
                values["max_body_bytes"] = int(size)
            except ValueError:
                raise ConfigError(f"MATCHER_MAX_BODY_BYTES must be a whole number of bytes, got {size!r}") from None
        if "MATCHER_AUDIT_LOG" in os.environ:  # set but empty: no audit log
            values["audit_log"] = os.environ["MATCHER_AUDIT_LOG"].strip() or None
        flag = os.environ.get("MATCHER_AUDIT_QUERIES")
        if flag is not None:
            if flag.strip().lower() not in _TRUE + _FALSE:
                raise ConfigError(f"MATCHER_AUDIT_QUERIES must be one of {', '.join(_TRUE + _FALSE[:-1])}, got {flag!r}")
            values["audit_queries"] = flag.strip().lower() in _TRUE
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
