"""Text preparation shared by encoders: Unicode NFKC, collapsed white space, optional lower-casing."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def prepare(text: str, *, lowercase: bool = False) -> str:
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return text.lower() if lowercase else text
