"""The one settings model of the library, the CLI and the service: every ``MATCHER_*`` variable, declared once.

:class:`Settings` holds each setting with its type, default and help; the variable is ``MATCHER_`` + the
field name in capitals (``keep_versions`` → ``MATCHER_KEEP_VERSIONS``). Nothing is read at import:
:func:`settings_from_env` reads the environment each time it is called (so a changed variable takes effect),
keyword overrides (CLI flags, arguments) winning; :func:`checked` validates given values without reading the
environment. A bad value is a :class:`~matcher.errors.ConfigError` naming the variable (or the argument),
what is valid and what was given. A blank variable counts as unset, except ``MATCHER_AUDIT_LOG`` (blank: no
audit log). ``docs/settings.md`` is generated from this model (``scripts/settings_table.py``).

The request limits (the API's request schemas and the library's own checks) are constants here too, and
the default body limit is computed from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from matcher.errors import ConfigError

ENV_PREFIX = "MATCHER_"

# ---------------------------------------------------------------------------------------------- limits
#: the API's request limits (service/schemas.py): results per request, characters of a query, a demand's
#: text or a licensee text, requirements per demand and characters of each
API_MAX_TOP_K = 100
API_MAX_TEXT_CHARS = 5000
API_MAX_REQUIREMENTS = 20
API_MAX_REQUIREMENT_CHARS = 2000
#: the library's own limits (CLI and direct calls: matcher/search.py)
MAX_TOP_K = 1000
MAX_QUERY_CHARS = 20_000
#: the largest request body the API's schemas accept, about: a longest text and the most, longest
#: requirements, every character JSON-escaped (``\\uXXXX``: 6 bytes, as Korean text is by default)
LARGEST_REQUEST_BYTES = 6 * (API_MAX_TEXT_CHARS + API_MAX_REQUIREMENTS * API_MAX_REQUIREMENT_CHARS)
#: the default body limit: the next power of two above :data:`LARGEST_REQUEST_BYTES` (512 KiB)
DEFAULT_MAX_BODY_BYTES = 1 << LARGEST_REQUEST_BYTES.bit_length()

# ---------------------------------------------------------------------------------------------- settings
IndexBackend = Literal["exact", "flat", "hnsw", "ivf", "auto"]
Runner = Literal["local", "ray"]
#: settings whose valid values are the choices of their ``Literal`` type
_CHOICES = frozenset({"index_backend", "runner"})
#: ``audit_log``'s default: ``audit.jsonl`` in the keys file's directory
AUDIT_BESIDE_KEYS = "beside-keys"
_BOOL = "true or false (1, true, yes, on / 0, false, no, off)"
#: settings read leniently, as before: a value that is not a whole number >= 1 counts as unset
_LENIENT = frozenset({"threads", "query_threads", "encode_slots"})


def _field(default: Any, help: str, expect: str = "", shown: str = "", section: str = "library",
           secret: bool = False) -> Any:
    """A setting: its default, its help (the docs' table), what a valid value is (for errors), the default
    as the table shows it when it is not the value itself, the table's section; a secret is not in repr."""
    return Field(default, description=help, repr=not secret,
                 json_schema_extra={"expect": expect, "shown": shown, "section": section})


class SettingsFields(BaseModel):
    """The settings' fields and checks (validated from given values only; :class:`Settings` adds the environment)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)

    # library and CLI
    index: Path | None = _field(None, "the index directory (`--index` wins): `matcher keys create --institution` "
                                "checks the name against it", "a directory path",
                                shown="none (the service: `var/demo/index`)")
    encoder: str | None = _field(None, "registry name, model directory or model name (`--encoder` wins); build: a "
                                 "dense-only pipeline with it; search and the service: must be the index's",
                                 "an encoder name", shown="the index's")
    pipeline: str | None = _field(None, "retrieval pipeline from `models/pipelines.toml` for builds (`--pipeline` "
                                  "wins)", "a pipeline name", shown="the registry's default")
    index_backend: IndexBackend = _field("auto", "vector index backend of builds (`--backend` wins)")
    cache: Path | None = _field(None, "embedding cache file (`--cache` wins)", "a file path",
                                shown="build: `INDEX/embeddings.sqlite`; eval: `~/.cache/matcher/embeddings.sqlite`")
    runner: Runner = _field("local", "where builds embed the texts the embedding cache does not hold (`--runner` "
                            "wins; the nightly job: `[job] runner`): `local` in the process, `ray` on a Ray cluster "
                            "(`pip install '.[ray]'`, `deploy/ray/README.md`)")
    ray_address: str | None = _field(None, "the Ray cluster of `runner = ray` (`HOST:6379`, `ray://HOST:10001`, "
                                     "`auto`, `local`)", "a Ray address",
                                     shown="`RAY_ADDRESS`, else a cluster `ray start` began on this machine, else "
                                     "a local one started for the build")
    ray_actors: int = _field(0, "encoder actors of `runner = ray`, one CPU and one encoder load each; `0`: one per "
                             "CPU of the cluster", "a whole number >= 0", shown="`0` (one per CPU)")
    keep_versions: int = _field(3, "index versions kept by retention (`--keep` wins), besides the active one, the "
                                "rollback target and leased ones", "a whole number >= 1")
    lease_seconds: float = _field(120.0, "how long a serving process's lease on the version it loaded holds "
                                  "without renewal (renewed every third of it); retention never deletes a "
                                  "leased version", "a number of seconds > 0")
    threads: int | None = _field(None, "BLAS/torch/faiss threads of builds; not a whole number >= 1: unset",
                                 shown="the CPUs this process may use")
    models_dir: Path | None = _field(None, "the folder of `encoders.toml`, `pipelines.toml` and "
                                     "`calibration.json`", "a directory path", shown="the repository's `models/`")
    model_cache: Path | None = _field(None, "where model files derived on this machine are kept (the int8 ONNX "
                                      "export of an encoder, `encoders/onnx.py`): made once, never downloaded",
                                      "a directory path", shown="`~/.cache/matcher/models`")
    keys_file: Path = _field(Path("var/keys.json"), "where API keys were kept before the state store (`--keys-file` "
                             "wins): imported once when present; its directory holds the default state database "
                             "and audit log", "a file path")
    database_url: str | None = _field(None, "the state store (API keys, ...): `sqlite:///PATH` or "
                                      "`postgresql://USER:PASSWORD@HOST/DB` (`--database-url` wins); `matcher keys` "
                                      "and the service must use the same one", "a database URL",
                                      shown="`sqlite:///` + `state.sqlite` beside the keys file", secret=True)
    debug: bool = _field(False, "`matcher` shows the traceback of an internal error instead of one line", _BOOL)
    # the service
    reload_interval: float = _field(2.0, "seconds between checks for a newly published index version; `0`: never",
                                    "a number of seconds >= 0", section="service")
    max_body_bytes: int = _field(DEFAULT_MAX_BODY_BYTES, "larger request bodies are refused with 413 before they "
                                 f"are read; the largest the request schemas accept is about "
                                 f"{LARGEST_REQUEST_BYTES // 1000} KB (the request limits below)",
                                 "a whole number of bytes >= 1", section="service",
                                 shown=f"`{DEFAULT_MAX_BODY_BYTES}` ({DEFAULT_MAX_BODY_BYTES // 1024} KiB)")
    audit_log: Path | str | None = _field(AUDIT_BESIDE_KEYS, "the audit log (JSON lines, appended); blank: none",
                                          "a file path", shown="`audit.jsonl` beside the keys file",
                                          section="service")
    audit_queries: bool = _field(False, "audit lines also hold the query and demand texts (they may be "
                                 "confidential, hence off by default)", _BOOL, section="service")
    result_cache_size: int = _field(256, "recent answers kept per index version (a few MiB); `0` disables",
                                    "a whole number >= 0", section="service")
    result_cache_ttl: float = _field(300.0, "seconds an answer is served from the cache; `0` disables",
                                     "a number of seconds >= 0", section="service")
    query_threads: int = _field(1, "BLAS/torch/faiss threads per request (measured: `bench/README.md`); not a "
                                "whole number >= 1: the default", section="service")
    encode_slots: int | None = _field(None, "query encodes running at once; `0` or not a whole number: unbounded",
                                      shown="unbounded", section="service")
    compute_slots: int = _field(0, "answers (search, match, bundles, licensees) computed at once by one process; "
                                "`0`: unbounded; unset, `matcher serve --workers N` with N > 1 makes it 1 (a second "
                                "answer in a worker only contends for its GIL and the other workers' cores: "
                                "measured, `bench/README.md`)",
                                "a whole number >= 0", shown="`0` (unbounded)", section="service")
    workers: int = _field(1, "`matcher serve` processes answering requests over one port (`--workers` wins); each "
                          "loads the index, so memory grows with them; a request is mostly Python holding one "
                          "process's GIL, so on 2 cores 2 workers nearly double what the service answers per "
                          "second (measured: `bench/README.md`); a loaded worker hands a connection back "
                          "(`service/balance.py`)", "a whole number >= 1", section="service")
    plan_time_limit: float = _field(30.0, "the longest CP-SAT time limit a meeting plan request "
                                    "(`POST /api/meetings/plans`) may ask for, in seconds, and its default; a "
                                    "longer one is refused (422)", "a number of seconds > 0", section="service")

    @field_validator("*", mode="before")
    @classmethod
    def _read(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        if isinstance(value, str):
            value = value.strip()
            if not value:  # blank: unset (a blank audit log: none)
                return None if name == "audit_log" else cls.model_fields[name].default
        if name in _LENIENT:
            try:
                number = int(value) if not isinstance(value, bool | float) else 0
            except (TypeError, ValueError):
                number = 0
            return number if number > 0 else cls.model_fields[name].default
        return value

    @field_validator("keep_versions", "max_body_bytes", "workers")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("below 1")
        return value

    @field_validator("reload_interval", "result_cache_size", "result_cache_ttl", "compute_slots", "ray_actors")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError("negative")
        return value

    @field_validator("lease_seconds", "plan_time_limit")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("not > 0")
        return value


class Settings(BaseSettings, SettingsFields):
    """:class:`SettingsFields` read from ``MATCHER_*`` variables (keyword arguments win)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True, validate_default=False)


#: every setting at its default (nothing read from the environment)
DEFAULTS = SettingsFields.model_construct()


def env_name(name: str) -> str:
    """The variable of setting ``name``: ``keep_versions`` → ``MATCHER_KEEP_VERSIONS``."""
    return ENV_PREFIX + name.upper()


def default_of(name: str) -> Any:
    return SettingsFields.model_fields[name].default


def settings_from_env(**overrides: object) -> Settings:
    """The settings from ``MATCHER_*`` variables, read now; ``overrides`` that are not ``None`` win."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except PydanticValidationError as exc:
        raise _config_error(exc, given) from None


def checked(**values: object) -> SettingsFields:
    """``values`` (setting names) validated without the environment; the rest at their defaults."""
    try:
        return SettingsFields.model_validate(values)
    except PydanticValidationError as exc:
        raise _config_error(exc, values) from None


def expectation(name: str) -> str:
    """What a valid value of setting ``name`` is, in words."""
    field = SettingsFields.model_fields[name]
    choices = get_args(field.annotation) if name in _CHOICES else ()
    if choices:
        return f"one of {', '.join(choices)}"
    extra = field.json_schema_extra
    return str(extra.get("expect", "")) if isinstance(extra, dict) else ""


def _config_error(exc: PydanticValidationError, given: Mapping[str, object]) -> ConfigError:
    """One message naming every bad setting: the argument (and its variable) when given, else the variable."""
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if name not in SettingsFields.model_fields:
            valid = ", ".join(SettingsFields.model_fields)
            parts.append(f"{name!r} is not a setting; valid: {valid}")
            continue
        label = f"{name} ({env_name(name)})" if name in given else env_name(name)
        parts.append(f"{label} must be {expectation(name) or error['msg']}, got {error['input']!r}")
    return ConfigError("; ".join(parts))
