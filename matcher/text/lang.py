"""Language of a text from its script: Hangul vs Latin letters (Korean technology text mixes both)."""

from __future__ import annotations

import re

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
#: Language detection looks at this many characters at most (the title and the abstract's start).
_SAMPLE = 4000


def is_hangul(char: str) -> bool:
    return bool(_HANGUL.match(char))


def detect_language(text: str) -> str:
    """``ko``, ``en``, ``mixed`` or ``other`` from the share of Hangul among the letters of ``text``.

    Hangul share >= 0.5 -> ``ko``; Latin share >= 0.9 -> ``en``; neither dominating but Hangul or
    Latin present -> ``mixed``; no Hangul/Latin letters (other scripts) -> ``other``; no letters -> ``ko``.
    """
    sample = text[:_SAMPLE]
    hangul, latin, letters = (len(p.findall(sample)) for p in (_HANGUL, _LATIN, _LETTER))
    if letters == 0:
        return "ko"
    if hangul / letters >= 0.5:
        return "ko"
    if latin / letters >= 0.9:
        return "en"
    if hangul or latin:
        return "mixed"
    return "other"



def hangul_share(text: str) -> float:
    """Share of Hangul among the letters of ``text`` (0.0 when it has no letters)."""
    sample = text[:_SAMPLE]
    letters = len(_LETTER.findall(sample))
    return len(_HANGUL.findall(sample)) / letters if letters else 0.0
