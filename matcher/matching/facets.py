"""Split a free demand text (Korean, English or mixed) into requirement facets.

Steps, all rule-based and deterministic:

1. lines, and bullet / numbered items (``-``, ``•``, ``·``, ``1)``, ``1.``, ``(1)``, ``①``, ``가.``), also
   inline ones (``① … ② …``);
2. sentences: after ``. ? !`` followed by a space or by Hangul (``…합니다.또한``), and after ``니다`` followed by
   a space; common English abbreviations (``e.g.``) are not sentence ends;
3. clauses inside a sentence at coordination markers — Korean ``,`` ``및`` ``그리고`` ``또한`` ``와/과 함께``
   and connective verb endings (``하고`` ``되고`` ``있고`` ``없고`` ``시키고`` ``-며``), conjunctive particles
   found by the morphological analyser (``A와 B``, ``A과 B``), English ``;`` ``,`` ``and`` ``as well as``
   ``also``; a clause opening with an anaphoric reference (``이의 제조방법``, ``이를 포함하는``, ``상기``)
   stays with the previous one, as in patent titles;
4. a piece is long enough when ``hangul/6 + latin_words/3 >= 1`` (≈ 6 Hangul syllables or 3 English
   words; half that for an explicit list item); shorter clause pieces merge into their shorter neighbour within the sentence, then shorter
   sentences/items into the previous one (the next one for the first);
5. boilerplate-only fragments (``필요합니다``, ``감사합니다``, ``please``…) and list lead-ins ending in ``:``
   are dropped; facets are de-duplicated (case, spacing and punctuation ignored) and, above
   ``max_facets``, the adjacent pair with the smallest combined length is merged until they fit.

Facets keep the original wording (polite endings are not stripped), minus list markers, leading
connectives and trailing separators.
"""

from __future__ import annotations

import re

from matcher.errors import ValidationError

_BULLET = re.compile(
    r"^\s*(?:[•·▪◦‣●○■□▶►]+|[-–—*]+(?=\s)|\d{1,2}[.)](?=\s)|\(\d{1,2}\)|[\u2460-\u2473\u2776-\u277f]"
    r"|[가나다라마바사아자차카타파하A-Za-z][.)](?=\s))\s*"
)
_INLINE_ITEM = re.compile(
    r"(?=[\u2460-\u2473\u2776-\u277f•])|(?<=\s)(?=\(\d{1,2}\)\s)|(?<=\s)(?=\d{1,2}\)\s)"
)
_SENTENCE_END = re.compile(r"(?<=[.?!。！？])\s+|(?<=[가-힣][.?!])(?=[가-힣])|(?<=니다)\s+")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Ms|Fig|No|approx|cf|al)\.|\b[A-Z]\.)$")
_CLAUSE = re.compile(
    r"\s*;\s*|,\s*and\s+|,(?!\d)(?!\s*(?:e\.g|i\.e|such as|including|예를 들어|예컨대)\b)\s*|\s+(?:and|as well as|also)\s+|\s+(?:및|그리고)\s+|(?:^|\s+)또한\s+"
    r"|(?:(?<=[와과] 함께)|(?<=하고)|(?<=되고)|(?<=있고)|(?<=없고)|(?<=시키고)|(?<=[가-힣]며))\s+"
)
#: a clause opening with an anaphoric reference continues the previous one: the patent-title pattern
#: "양극 활물질, 이의 제조방법 및 이를 포함하는 리튬 이차 전지" names ONE technology
_ANAPHOR = re.compile(r"^(?:이의|이를|이에|이로|이와|그의|그를|그 |상기|해당)")
_JOINING = frozenset({"와", "과", "하고", "랑", "이랑"})
_LEADING = re.compile(r"^(?:또한|그리고|및|and|also|as well as)\s+", re.IGNORECASE)
_HANGUL = re.compile(r"[가-힣]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")
_LISTED_MIN = 0.5  # an explicit list item stands alone from ~3 Hangul syllables or 2 words
_KEY_DROP = re.compile(r"[\W_]+")
_BOILERPLATE = frozenset(
    "필요 필요함 필요해요 필요합니다 필요하다 원합니다 원해요 희망합니다 희망함 바랍니다 부탁드립니다 "
    "감사합니다 고맙습니다 요청합니다 요청드립니다 문의드립니다 있습니다 합니다 입니다 주세요 "
    "please thanks thank you we need needed required is are".split()
)


def _weight(text: str) -> float:
    """Length in "facet units": 6 Hangul syllables or 3 Latin words make one."""
    return len(_HANGUL.findall(text)) / 6 + len(_LATIN_WORD.findall(text)) / 3


def _clean(text: str) -> str:
    text = _BULLET.sub("", text.strip())
    text = _LEADING.sub("", text.strip())
    return text.strip().strip(",;、").strip()


def _is_boilerplate(text: str) -> bool:
    words = [_KEY_DROP.sub("", w).lower() for w in text.split()]
    return all(w in _BOILERPLATE or not w for w in words)


def _items(text: str) -> list[tuple[str, bool]]:
    """Lines and list items, each with whether it was an explicit list item."""
    out = []
    for line in text.splitlines():
        for part in _INLINE_ITEM.split(line):
            marker = _BULLET.match(part)
            listed = marker is not None and bool(marker.group().strip())
            part = _BULLET.sub("", part).strip()
            if part:
                out.append((part, listed))
    return out


def _sentences(item: str) -> list[str]:
    out, start = [], 0
    for m in _SENTENCE_END.finditer(item):
        if _ABBREVIATION.search(item[start : m.start()]):
            continue
        out.append(item[start : m.start()])
        start = m.end()
    out.append(item[start:])
    return [s.strip() for s in out if s.strip()]


def _merge_short(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Merge spans of ``text`` shorter than one unit into their shorter neighbour."""
    spans = list(spans)
    while len(spans) > 1:
        weights = [_weight(_clean(text[a:b])) for a, b in spans]
        short = [i for i, w in enumerate(weights) if w < 1.0]
        if not short:
            break
        i = min(short, key=lambda k: (weights[k], k))
        if i == 0:
            j = 1
        elif i == len(spans) - 1:
            j = i - 1
        else:
            j = i - 1 if weights[i - 1] <= weights[i + 1] else i + 1
        lo, hi = min(i, j), max(i, j)
        spans[lo : hi + 1] = [(spans[lo][0], spans[hi][1])]
    return spans


def _joining_particles(sentence: str) -> list[tuple[int, int]]:
    """Cuts after Korean conjunctive particles (``A와 B``, ``A과 B``: Kiwi tag JC) followed by a space.

    The particle stays with the left piece; ``결과와`` is not cut inside ``결과`` because the analyser, not a
    regex, decides what is a particle.
    """
    if not _HANGUL.search(sentence):
        return []
    from matcher.text.tokenize import kiwi

    cuts = []
    for tok in kiwi().tokenize(sentence):
        end = tok.start + tok.len
        if tok.tag == "JC" and tok.form in _JOINING and end < len(sentence) and sentence[end].isspace():
            stop = end
            while stop < len(sentence) and sentence[stop].isspace():
                stop += 1
            cuts.append((end, stop))
    return cuts


def _clauses(sentence: str) -> list[str]:
    cuts = sorted([(m.start(), m.end()) for m in _CLAUSE.finditer(sentence)] + _joining_particles(sentence))
    bounds, start = [], 0
    for a, b in cuts:
        if a >= start:  # skip a cut overlapping the previous one
            bounds.append((start, a))
            start = b
    bounds.append((start, len(sentence)))
    spans: list[tuple[int, int]] = []
    for a, b in bounds:
        if not sentence[a:b].strip():
            continue
        if spans and _ANAPHOR.match(_clean(sentence[a:b])):
            spans[-1] = (spans[-1][0], b)  # "…, 이의 제조방법" continues the previous piece
        else:
            spans.append((a, b))
    pieces = [sentence[a:b].strip() for a, b in _merge_short(spans, sentence)]
    return [p for p in pieces if _clean(p) and not _is_boilerplate(_clean(p))]


def _merge_units(units: list[tuple[str, float]]) -> list[str]:
    """Merge units below their minimum weight into the previous unit (the next one for the first)."""
    out = list(units)
    i = 0
    while len(out) > 1 and i < len(out):
        if _weight(_clean(out[i][0])) < out[i][1]:
            j = i - 1 if i > 0 else 1
            lo, hi = min(i, j), max(i, j)
            out[lo : hi + 1] = [(f"{out[lo][0]} {out[hi][0]}", 1.0)]
            i = lo
        else:
            i += 1
    return [u for u, _ in out]


def _dedupe(units: list[str]) -> list[str]:
    seen, out = set(), []
    for u in units:
        key = _KEY_DROP.sub("", u).lower()
        if key not in seen:
            seen.add(key)
            out.append(u)
    return out


def _fit(units: list[str], max_facets: int) -> list[str]:
    out = list(units)
    while len(out) > max_facets:
        i = min(range(len(out) - 1), key=lambda k: (_weight(out[k]) + _weight(out[k + 1]), k))
        out[i : i + 2] = [f"{out[i]} {out[i + 1]}"]
    return out


def split_requirements(text: str, max_facets: int = 8) -> list[str]:
    """Requirement facets of a demand text, in text order, de-duplicated, at most ``max_facets``."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"text must be a non-empty string, got {text!r}", field="text")
    if isinstance(max_facets, bool) or not isinstance(max_facets, int) or max_facets < 1:
        raise ValidationError(
            f"max_facets={max_facets!r} is out of range; valid: an integer >= 1", field="max_facets"
        )
    sentences = [(s, listed) for item, listed in _items(text) for s in _sentences(item)]
    units: list[tuple[str, float]] = []
    for k, (sentence, listed) in enumerate(sentences):
        if sentence.rstrip().endswith((":", "：")) and k < len(sentences) - 1:
            continue  # a lead-in such as "다음 기술이 필요합니다:" before the listed needs
        units.extend((c, _LISTED_MIN if listed else 1.0) for c in _clauses(sentence))
    units = _dedupe([_clean(u) for u in _merge_units(units)])
    if not units:
        return [_clean(text) or text.strip()]
    return _fit(units, max_facets)
