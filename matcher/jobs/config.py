"""The job config file (TOML) shared by ``matcher nightly``, ``matcher demands`` and ``matcher alerts``.

Only ``index`` and one ``[[sources]]`` are required; every other key has the default below. Relative paths
are relative to the config file's directory. Example (``deploy/nightly.example.toml``)::

    index = "var/demo/index"

    [[sources]]
    path = "corpora/demo"                 # a file, a directory or a glob of anything `matcher ingest` reads
    spec = "corpora/demo/sources.toml"    # optional column mapping
    institution = "한빛대학교 산학협력단"   # optional: the institution this drop belongs to

    [state]
    database_url = "sqlite:///var/state.sqlite"   # default: MATCHER_DATABASE_URL, else var/state.sqlite

    [gate]
    self_retrieval = 0.95   # share of sampled titles that find their own record in the top 10
    sample = 200            # titles sampled (deterministically) for that check
    max_drop = 0.10         # largest allowed fall of the record count, as a fraction of the active version

    [alerts]
    top_k = 10              # a technology entering a saved demand's top k is an alert
    digest_dir = "var/alerts"
    smtp_host = ""          # empty: digests are written as files only
    smtp_port = 25
    mail_from = "matcher@localhost"
    webhook_url = ""

    [job]
    keep_versions = 3
    metrics = ""            # Prometheus textfile path; empty: none
    runner = "local"        # where new texts are embedded: "local" or "ray" (a Ray cluster, deploy/ray/README.md);
                            # unset: MATCHER_RUNNER (default "local")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matcher.errors import ConfigError
from matcher.tomlfile import read_toml


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Section):
    path: str = Field(description="a file, a directory or a glob of files `matcher ingest` reads")
    spec: str | None = Field(default=None, description="TOML source spec (column mapping)")
    institution: str | None = Field(default=None, description="the member institution this source belongs to")


class StateConfig(_Section):
    database_url: str | None = Field(default=None, description="state store URL; default MATCHER_DATABASE_URL, "
                                                               "else sqlite beside the keys file")


class GateConfig(_Section):
    self_retrieval: float = Field(default=0.95, ge=0.0, le=1.0)
    sample: int = Field(default=200, ge=1)
    max_drop: float = Field(default=0.10, ge=0.0, le=1.0)


class AlertsConfig(_Section):
    top_k: int = Field(default=10, ge=1, le=100)
    digest_dir: str = "var/alerts"
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    mail_from: str = "matcher@localhost"
    webhook_url: str = ""


class JobConfig(_Section):
    keep_versions: int = Field(default=3, ge=1)
    metrics: str = ""
    runner: Literal["local", "ray"] | None = Field(default=None, description="where the build embeds the texts "
                                                   "the embedding cache does not hold; None: MATCHER_RUNNER")


class NightlyConfig(_Section):
    """A parsed job config; :attr:`base` is the config file's directory (relative paths start there)."""

    index: str
    sources: list[SourceConfig] = Field(default_factory=list)
    state: StateConfig = StateConfig()
    gate: GateConfig = GateConfig()
    alerts: AlertsConfig = AlertsConfig()
    job: JobConfig = JobConfig()
    base: Path = Path(".")

    def path(self, value: str) -> Path:
        """``value`` resolved against the config file's directory (absolute paths unchanged)."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base / p

    @property
    def index_dir(self) -> Path:
        return self.path(self.index)


def parse_config(data: dict[str, Any], base: Path, source: str = "config") -> NightlyConfig:
    """A :class:`NightlyConfig` from parsed TOML; a :class:`ConfigError` naming the key and the problem."""
    try:
        return NightlyConfig(**data, base=base)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            + (f" (got {e['input']!r})" if not isinstance(e.get("input"), dict) else "")
            for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def load_config(path: str | Path, *, need_sources: bool = False) -> NightlyConfig:
    """Read and check a job config; ``need_sources``: at least one ``[[sources]]`` (the nightly run)."""
    path = Path(path)
    config = parse_config(read_toml(path, "job config"), path.resolve().parent, str(path))
    if need_sources and not config.sources:
        raise ConfigError(f"{path}: no [[sources]]: give at least one with path = \"FILE, DIR or GLOB\"")
    return config
