"""Typed service settings, read from the environment when asked (``MATCHER_*``), never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from matcher.errors import ConfigError
from matcher.keys import DEFAULT_KEYS_FILE, keys_file_from_env  # one default for the service and the CLI

__all__ = ["DEFAULT_KEYS_FILE", "ServiceSettings", "keys_file_from_env"]


@dataclass(frozen=True)
class ServiceSettings:
    index: Path
    encoder: str | None = None          # None: the encoder the index was built with
    max_top_k: int = 100
    max_query_chars: int = 5000
    keys_file: Path = DEFAULT_KEYS_FILE  # API keys (hashed); see matcher/keys.py
    reload_interval: float = 2.0        # seconds between checks for a newly published index version; 0: never

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", Path(self.index))
        object.__setattr__(self, "keys_file", Path(self.keys_file))
        if not isinstance(self.reload_interval, int | float) or self.reload_interval < 0:
            raise ConfigError(f"reload_interval must be a number of seconds >= 0, got {self.reload_interval!r}")

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        values: dict[str, object] = {
            "index": Path(os.environ.get("MATCHER_INDEX", "var/demo/index")),
            "encoder": os.environ.get("MATCHER_ENCODER") or None,
            "keys_file": keys_file_from_env(),
        }
        interval = os.environ.get("MATCHER_RELOAD_INTERVAL")
        if interval:
            try:
                values["reload_interval"] = float(interval)
            except ValueError:
                raise ConfigError(f"MATCHER_RELOAD_INTERVAL must be a number of seconds, got {interval!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
