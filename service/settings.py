"""Typed service settings, read from the environment when asked (``MATCHER_*``), never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceSettings:
    index: Path
    encoder: str | None = None          # None: the encoder the index was built with
    max_top_k: int = 100
    max_query_chars: int = 5000

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        values: dict[str, object] = {
            "index": Path(os.environ.get("MATCHER_INDEX", "var/demo/index")),
            "encoder": os.environ.get("MATCHER_ENCODER") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
