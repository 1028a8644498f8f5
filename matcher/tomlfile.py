"""Reading the project's TOML files (registries, source specs) with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError


def read_toml(path: Path, what: str, *, missing_hint: str = "") -> dict[str, Any]:
    """The parsed file; :class:`ConfigError` naming ``path`` and ``what`` it is when it cannot be read."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} does not exist{missing_hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {what} cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
