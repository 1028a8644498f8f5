"""The state database URL: ``MATCHER_DATABASE_URL``, else SQLite ``state.sqlite`` beside the keys file.

``sqlite:///var/state.sqlite`` (relative to the working directory) or ``sqlite:////abs/path.sqlite``;
``postgresql://user:password@host:5432/db`` (also ``postgres://``, ``postgresql+psycopg://``; a unix
socket: ``postgresql://user@/db?host=/run/postgresql``). PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

from pathlib import Path

from matcher.errors import ConfigError
from matcher.settings import env_name, settings_from_env

DATABASE_URL_ENV = env_name("database_url")
#: the SQLite file beside the keys file (``var/keys.json`` → ``var/state.sqlite``) when no URL is set
STATE_FILE_NAME = "state.sqlite"
SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")


def default_database_url(keys_file: str | Path) -> str:
    return f"sqlite:///{Path(keys_file).parent / STATE_FILE_NAME}"


def database_url_from_env(given: str | None, keys_file: str | Path) -> str:
    """``given`` (e.g. ``--database-url``), else ``MATCHER_DATABASE_URL``, else SQLite beside ``keys_file``
    (``var/keys.json`` → ``var/state.sqlite``); checked by :func:`normalise`."""
    url = (given or settings_from_env().database_url or "").strip()
    return normalise(url or default_database_url(keys_file))


def normalise(url: str) -> str:
    """``url`` with PostgreSQL spelled for psycopg 3; a ``ConfigError`` naming the valid schemes otherwise."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES or not rest:
        raise ConfigError(f"{DATABASE_URL_ENV}: {redacted(url)!r} is not a database URL; valid: "
                          "sqlite:///PATH (relative) or sqlite:////ABS/PATH, postgresql://USER:PASSWORD@HOST/DB")
    if scheme.lower() == "sqlite":
        if not rest.startswith("/") or rest == "/" or rest == "/:memory:":
            raise ConfigError(f"{DATABASE_URL_ENV}: {url!r} names no SQLite file; give sqlite:///PATH")
        return "sqlite://" + rest
    return "postgresql+psycopg://" + rest


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL (``None`` for another database)."""
    return Path(url[len("sqlite:///"):].split("?", 1)[0]) if url.startswith("sqlite:///") else None


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}://{userinfo}{at}{host}{slash}{tail}"
