"""Small value normalisers shared by the readers: text, numbers, dates, lists, titles, language."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from matcher.text.lang import is_hangul

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),  # 20170515 (KIPRIS XML)
    re.compile(r"^(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})\.?$"),  # 2017.05.15 / 2017-05-15 / 2017/5/15
    re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"),  # Excel cell via pandas
    re.compile(r"^(\d{4})(\d{2})(\d{2})\.0+$"),  # 20170515.0 (number exported as float)
)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def clean_line(value: object) -> str:
    """One-line text: ``None`` -> ``''``, every whitespace run -> one space, stripped."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def clean_text(value: object) -> str:
    """Multi-line text: keeps line breaks, collapses spaces within lines, drops blank lines."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def parse_date(value: object) -> str | None:
    """An ISO ``YYYY-MM-DD`` date, ``None`` for a blank value; ``ValueError`` when unparseable."""
    text = clean_line(value)
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(match.group(i)) for i in (1, 2, 3))
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError as exc:
                raise ValueError(f"{text!r} is not a real date ({exc})") from None
    raise ValueError(f"{text!r} is not a date (expected YYYYMMDD, YYYY.MM.DD or YYYY-MM-DD)")


def normalize_number(value: object) -> str:
    """Digits of an identifier exported as text, float (``'1020210000101.0'``), ``1.02E+12`` or ``10-2017-...``.

    Returns ``''`` for a blank value; raises ``ValueError`` when the value is not a whole number.
    """
    text = clean_line(value)
    if not text:
        return ""
    compact = text.replace("-", "").replace(" ", "")
    if compact.isdigit():
        return compact
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise ValueError(f"{text!r} is not a whole number")
    return str(int(number))


def split_list(value: object, separator: str = "|") -> tuple[str, ...]:
    """A list field from a cell joined by ``separator`` (or an already-split list); blanks and repeats dropped."""
    if value is None:
        return ()
    items: Iterable[object] = value if isinstance(value, list | tuple) else str(value).split(separator)
    seen: dict[str, None] = {}
    for item in items:
        text = clean_line(item)
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def split_title(title: str) -> tuple[str, str]:
    """``'한국어 제목(ENGLISH TITLE)'`` -> ``('한국어 제목', 'ENGLISH TITLE')``.

    Only a trailing, balanced parenthetical without Hangul but with Latin letters is taken as the
    English title, and only when Hangul text remains before it; otherwise ``(title, '')``.
    """
    text = title.strip()
    if not text.endswith(")"):
        return text, ""
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                inner, head = text[index + 1 : -1].strip(), text[:index].strip()
                has_latin = any(c.isascii() and c.isalpha() for c in inner)
                if has_latin and not any(is_hangul(c) for c in inner) and any(is_hangul(c) for c in head):
                    return head, inner
                return text, ""
    return text, ""


def parse_bool(value: object) -> bool:
    """``true/false``, ``yes/no``, ``1/0``, ``y/n``, ``예/아니오``; ``ValueError`` otherwise (blank -> False)."""
    if isinstance(value, bool):
        return value
    text = clean_line(value).lower()
    if text in ("", "false", "no", "n", "0", "아니오", "아니요", "f"):
        return False
    if text in ("true", "yes", "y", "1", "예", "t"):
        return True
    raise ValueError(f"{text!r} is not a yes/no value (use true or false)")


def parse_trl(value: object) -> int | None:
    """A technology readiness level 1-9 (``'3'``, ``'3.0'``, ``3``); ``None`` when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a TRL (an integer 1-9)")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a TRL (an integer 1-9)") from None
    if number != number.to_integral_value() or not 1 <= number <= 9:
        raise ValueError(f"{value!r} is not a TRL (an integer 1-9)")
    return int(number)
