"""The service's settings: a view of the one settings model (:mod:`matcher.settings`), read when asked, never
at import.

:class:`ServiceSettings` takes its values as arguments (each checked by the model, its default the model's)
or from ``MATCHER_*`` variables (:meth:`ServiceSettings.from_env`), and resolves what depends on the keys
file: the default state database and audit log beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from matcher.settings import (
    AUDIT_BESIDE_KEYS,
    DEFAULT_MAX_BODY_BYTES,
    Settings,
    checked,
    default_of,
    settings_from_env,
)
from matcher.state.url import default_database_url, normalise

#: the index served when neither ``--index`` nor ``MATCHER_INDEX`` names one
DEMO_INDEX = Path("var/demo/index")
__all__ = ["AUDIT_BESIDE_KEYS", "DEFAULT_MAX_BODY_BYTES", "DEMO_INDEX", "ServiceSettings"]


@dataclass(frozen=True)
class ServiceSettings:
    """What the service runs with; each field is the setting of the same name (docs/settings.md)."""

    index: Path
    encoder: str | None = None          # None: the encoder the index was built with
    keys_file: Path = default_of("keys_file")  # keys imported once; beside it: the default database, audit log
    reload_interval: float = default_of("reload_interval")
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger request bodies are refused (413) before they are read
    audit_log: Path | str | None = AUDIT_BESIDE_KEYS  # one JSON line per /api call; None or "": no audit log
    audit_queries: bool = default_of("audit_queries")
    plan_time_limit: float = default_of("plan_time_limit")  # the longest CP-SAT time limit a plan request may ask
    # the state store (keys, ...): a database URL; None: sqlite state.sqlite beside keys_file
    database_url: str | None = field(default=None, repr=False)  # not in repr: it may hold a password

    def __post_init__(self) -> None:
        given = checked(index=self.index, encoder=self.encoder, keys_file=self.keys_file,
                        reload_interval=self.reload_interval, max_body_bytes=self.max_body_bytes,
                        audit_log=self.audit_log, audit_queries=self.audit_queries, database_url=self.database_url,
                        plan_time_limit=self.plan_time_limit)
        keys_file = given.keys_file
        audit = given.audit_log
        if audit == AUDIT_BESIDE_KEYS:
            audit = keys_file.parent / "audit.jsonl"
        values = {"index": Path(self.index), "keys_file": keys_file, "reload_interval": given.reload_interval,
                  "max_body_bytes": given.max_body_bytes, "audit_log": Path(audit) if audit else None,
                  "audit_queries": given.audit_queries, "plan_time_limit": given.plan_time_limit,
                  "database_url": normalise(given.database_url or default_database_url(keys_file))}
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def of(cls, settings: Settings) -> ServiceSettings:
        """The service's part of ``settings``."""
        return cls(index=settings.index or DEMO_INDEX, encoder=settings.encoder, keys_file=settings.keys_file,
                   reload_interval=settings.reload_interval, max_body_bytes=settings.max_body_bytes,
                   audit_log=settings.audit_log, audit_queries=settings.audit_queries,
                   database_url=settings.database_url, plan_time_limit=settings.plan_time_limit)

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        """From ``MATCHER_*`` variables; ``overrides`` (setting names) that are not ``None`` win."""
        return cls.of(settings_from_env(**overrides))
