"""Domain errors. Each names the bad value and, where there are any, the valid options.

The service maps these to HTTP statuses in one place (``service/errors.py``); the CLI prints
``str(error)`` as a one-line reason and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable


class MatcherError(Exception):
    """Base of every error the library raises on purpose."""

    #: HTTP status the service uses for this family of errors.
    http_status: int = 500


class ValidationError(MatcherError, ValueError):
    """A value does not satisfy the record or setting it is meant for."""

    http_status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InputFileError(MatcherError):
    """A whole input file cannot be read (missing, unreadable, malformed beyond row level)."""

    http_status = 400

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class ConfigError(MatcherError):
    """A setting, source spec or registry entry is wrong."""

    http_status = 400


class NotFoundError(MatcherError, KeyError):
    """An id, index or encoder name does not exist."""

    http_status = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class IndexMismatchError(MatcherError):
    """An index was built with a different encoder (or format) than the one configured."""

    http_status = 409


class VersionCheckError(MatcherError):
    """An index version failed its check before activation (it is not made active)."""

    http_status = 409


class AuthenticationError(MatcherError):
    """No API key, or a key that is not known."""

    http_status = 401


class PermissionDeniedError(MatcherError):
    """The caller's key does not have the role the operation needs."""

    http_status = 403


def unknown_choice(kind: str, value: object, options: Iterable[str]) -> NotFoundError:
    """An error for a name that is not one of ``options``, listing them."""
    valid = ", ".join(sorted(options)) or "(none)"
    return NotFoundError(f"unknown {kind} {value!r}; valid options: {valid}")
