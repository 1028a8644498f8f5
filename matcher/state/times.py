"""UTC times: ISO 8601 text for people and JSON, and expiry parsing (``2027-01-31``,
``2027-01-31T12:00:00+09:00`` or a duration such as ``30d``). No database here (see ``utctype.py``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from matcher.errors import ConfigError

#: duration units of ``--expires`` (``90m``, ``12h``, ``30d``, ``2w``)
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(when: datetime | None) -> str | None:
    """``2026-11-29T09:20:28Z`` (seconds; ``None`` stays ``None``)."""
    if when is None:
        return None
    return as_utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_utc(when: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken as UTC, as SQLite returns them)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time (``Z`` or an offset; none: UTC); a date is 00:00 UTC of that day."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        raise ConfigError(f"{text!r} is not a date or time; give YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]") from None


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """When a key made now with ``--expires text`` stops working: a date (00:00 UTC that day), a time, or
    a duration from now (``90m``, ``12h``, ``30d``, ``2w``). Must lie in the future."""
    now = now or utcnow()
    found = _DURATION.match(text or "")
    if found:
        amount, unit = int(found.group(1)), found.group(2).lower()
        if amount < 1:
            raise ConfigError(f"expiry {text!r} is not in the future; give a duration of at least 1{unit}")
        try:
            return (now + amount * UNITS[unit]).replace(microsecond=0)
        except OverflowError:
            raise ConfigError(f"expiry {text!r} is too far in the future") from None
    if not text or not text.strip():
        raise ConfigError("an expiry is empty; give a date (2027-01-31), a time or a duration (30d, 12h, 2w, 90m)")
    try:
        when = parse_time(text)
    except ConfigError:
        raise ConfigError(f"expiry {text!r} is neither a date (2027-01-31), a time (2027-01-31T18:00:00+09:00) "
                          f"nor a duration ({', '.join('N' + u for u in UNITS)}, e.g. 30d)") from None
    if when <= now:
        raise ConfigError(f"expiry {text!r} ({iso(when)}) is not in the future (now {iso(now)})")
    return when
