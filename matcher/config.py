"""Typed settings for the library and CLI, read from the environment when asked (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from matcher.errors import ConfigError
from matcher.index.factory import BACKENDS


@dataclass(frozen=True)
class Settings:
    """What a run is configured with. CLI flags override the environment."""

    encoder: str | None = None          # registry name, model dir or model name (a dense-only pipeline)
    pipeline: str | None = None         # pipeline name from models/pipelines.toml; None = its default
    index_backend: str = "auto"         # exact | flat | hnsw | ivf | auto
    cache_path: Path | None = None      # embedding cache; None = <index>/embeddings.sqlite
    keep_versions: int = 3              # index versions kept by retention (plus active, rollback target, leased)

    def __post_init__(self) -> None:
        if self.index_backend not in (*BACKENDS, "auto"):
            raise ConfigError(
                f"index backend {self.index_backend!r} is not valid; valid: {', '.join([*BACKENDS, 'auto'])}"
            )
        if isinstance(self.keep_versions, bool) or not isinstance(self.keep_versions, int) or self.keep_versions < 1:
            raise ConfigError(f"keep_versions (--keep, MATCHER_KEEP_VERSIONS) must be a whole number >= 1, "
                              f"got {self.keep_versions!r}")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "encoder": os.environ.get("MATCHER_ENCODER") or None,
            "pipeline": os.environ.get("MATCHER_PIPELINE") or None,
            "index_backend": os.environ.get("MATCHER_INDEX_BACKEND") or "auto",
            "cache_path": Path(p) if (p := os.environ.get("MATCHER_CACHE")) else None,
        }
        if keep := os.environ.get("MATCHER_KEEP_VERSIONS", "").strip():
            try:
                values["keep_versions"] = int(keep)
            except ValueError:
                raise ConfigError(f"MATCHER_KEEP_VERSIONS must be a whole number >= 1, got {keep!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
