"""Split a free demand text (Korean, English or mixed) into requirement facets.

Steps, all rule-based and deterministic:

1. lines, and bullet / numbered items (``-``, ``•``, ``·``, ``1)``, ``1.``, ``(1)``, ``①``, ``가.``), also
   inline ones (``① … ② …``); when the text lists two or more marked items, each item is one requirement
   (a title inside an item, ``대칭성과 영상 유사도를 이용한 …``, is not cut at its own ``과`` or ``및``);
2. sentences: after ``. ? !`` followed by a space or by Hangul (``…합니다.또한``), and after ``니다`` followed by
   a space; common English abbreviations (``e.g.``) are not sentence ends;
3. framing is stripped from a sentence and from each piece: a leading ``당사는`` / ``We need`` / ``We are
   looking for a technology for`` …, and a trailing Korean request predicate found by the morphological
   analyser (``…이 필요합니다``, ``…를 찾고 있습니다``, ``…를 결합한 기술을 원합니다``: particles, endings,
   auxiliaries and words of :data:`_TAIL_WORDS`, holding at least one request word of :data:`_TRIGGERS`,
   cut back to the last content word) or an English one (``… is required``);
4. clauses inside a sentence at coordination markers, by strength: ``;``, the explicit connectors
   ``그리고`` ``또한`` ``뿐만 아니라`` ``외에(도)`` ``에 더해`` ``and`` ``as well as`` ``plus``, colloquial ``하고`` / ``랑`` and connective verb endings
   (``하고`` ``되고`` ``있고`` ``-며``), with commas where one of the latter occurs (``A, B and C``); only in
   a sentence where none of these occurs, the list connectors ``,`` ``및`` ``·`` ``+`` and the conjunctive
   particles ``와/과`` (Kiwi tag JC, so ``SLAM과`` and
   ``BMS와`` count while ``결과와`` inside a word does not). An English ``and`` / ``plus`` between two Latin
   words of a sentence that has Hangul (an English title quoted in a Korean sentence) lists like ``및``. A text that coordinates with ``그리고`` or ``and``
   keeps the ``및`` of a patent title inside one piece. A clause opening with an anaphoric reference
   (``이의 제조방법``, ``이를 포함하는``, ``상기``) stays with the previous one, as in patent titles;
5. a piece is long enough when its CONTENT weight is at least 0.5: Hangul syllables of content words / 6 +
   Latin words / 3 (an acronym of 3+ capitals or a code with digits: 1/2), framing and generic words
   (방법, 장치, 시스템, 기술 …; English function words and method, system, thereof …; the words of an
   all-caps English title are words, not acronyms) not counted — so ``실내 SLAM`` or ``해수 담수`` stand alone while ``로봇``,
   ``결과`` or ``방법`` do not; shorter clause pieces merge into their shorter neighbour inside their
   ``;`` part (a generic-only piece, ``… 방법 및 장치``, into the previous one), then shorter sentences /
   items into the previous one (the next one for the first);
6. context sentences and clauses that describe the demander instead of asking (``ESS 운영사입니다``,
   ``… 솔루션을 개발하고 있습니다``, ``… 준비 중이며``, ``We are a …``; no request word) are dropped when
   something else is left; boilerplate-only fragments (``필요합니다``, ``감사합니다``, ``please``…) and list lead-ins ending in ``:``
   are dropped; facets are de-duplicated (case, spacing and punctuation ignored) and, above
   ``max_facets``, the adjacent pair with the smallest combined length is merged until they fit.

Facets keep the content wording of the text, minus list markers, connectives, joining particles and
framing. A text that is framing only is returned as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

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
#: clause separators by strength: 1 = ";", 2 = explicit connectors, 3 = list connectors
_STRONG = re.compile(r"\s*;\s*")
_EXPLICIT = re.compile(
    r",?\s+(?:and|as well as|also|plus)\s+|\s+그리고\s+|(?:^|,?\s+)또한\s+"
    r"|뿐만?\s*아니라,?\s+|\s+(?:이외|외)에도?,?\s+|(?<=[\w)])에\s*더(?:해|하여)(?:서)?,?\s+"
    r"|(?:(?<=[와과] 함께)|(?<=하고)|(?<=되고)|(?<=있고)|(?<=없고)|(?<=시키고)|(?<=[가-힣]며))\s+",
    re.IGNORECASE,
)
_LISTING = re.compile(
    r",(?!\d)(?!\s*(?:e\.g|i\.e|such as|including|예를 들어|예컨대)\b)\s*|\s+및\s+|\s*[·・]\s*|\s+\+\s+"
)
_COMMA = re.compile(r",(?!\d)(?!\s*(?:e\.g|i\.e|such as|including|예를 들어|예컨대)\b)\s*|\s*[·・]\s*|\s+\+\s+")
#: a clause opening with an anaphoric reference continues the previous one: the patent-title pattern
#: "양극 활물질, 이의 제조방법 및 이를 포함하는 리튬 이차 전지" names ONE technology
_ANAPHOR = re.compile(r"^(?:이의|이를|이에|이로|이와|그의|그를|그 |상기|해당)")
#: conjunctive particles (Kiwi JC): the list ones (level 3) and the colloquial ones (level 2)
_JOINING = {"와": 3, "과": 3, "하고": 2, "랑": 2, "이랑": 2}
_LEADING = re.compile(r"^(?:또한|그리고|및|and|also|as well as)\s+", re.IGNORECASE)
_HANGUL = re.compile(r"[가-힣]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")
_CODE = re.compile(r"^(?:[A-Z0-9]{3,}|[A-Za-z]+\d[A-Za-z0-9]*)$")
_KEY_DROP = re.compile(r"[\W_]+")
_BOILERPLATE = frozenset(
    "필요 필요함 필요해요 필요합니다 필요하다 원합니다 원해요 희망합니다 희망함 바랍니다 부탁드립니다 "
    "감사합니다 고맙습니다 요청합니다 요청드립니다 문의드립니다 있습니다 합니다 입니다 주세요 "
    "please thanks thank you we need needed required is are".split()
)
MIN_WEIGHT = 0.5

# ------------------------------------------------------------------------------------------ framing
_KO_LEAD = re.compile(
    r"^(?:당사|폐사|본사|저희|우리|저희\s*회사|우리\s*회사|저희\s*기업|우리\s*기업|저희\s*연구소|저희\s*팀|"
    r"당\s*기업|본\s*기업)(?:는|은|에서는|에서|도|가|이)\s+"
)
_EN_LEAD = re.compile(
    r"^(?:(?:we|i|our\s+(?:company|team|firm|client|group|lab)|the\s+(?:company|client))\s+"
    r"(?:also\s+|currently\s+|urgently\s+|really\s+)?"
    r"(?:need|needs|require|requires|want|wants|seek|seeks|are\s+seeking|am\s+seeking|is\s+seeking|"
    r"are\s+looking\s+for|am\s+looking\s+for|is\s+looking\s+for|look\s+for|would\s+like|'d\s+like|"
    r"are\s+interested\s+in|am\s+interested\s+in|is\s+interested\s+in|are\s+searching\s+for)"
    r"|(?:also\s+)?(?:looking\s+for|seeking|searching\s+for|interested\s+in|need|needs|needed|required|wanted))"
    r"\s+(?:to\s+(?:license|acquire|find|obtain|get|adopt|license-in)\s+)?(?:licensing\s+|acquiring\s+)?"
    r"(?:(?:a|an|the|some|any|one|new)\s+)?"
    r"(?:(?:technology|technologies|solution|solutions|patents?|partners?|licen[cs]es?)\s+"
    r"(?:for|in|on|of|covering|related\s+to|about|with|that\s+(?:can|could|will)?)\s+)?"
    r"(?:(?:a|an|the|some)\s+)?",
    re.IGNORECASE,
)
_EN_TAIL = re.compile(
    r"(?:\s+(?:technolog(?:y|ies)|solutions?|patents?))?"
    r"(?:\s+(?:is|are)\s+(?:also\s+)?(?:required|needed|wanted|necessary|essential))?"
    r"(?:,?\s*please)?\s*[.?!]*$",
    re.IGNORECASE,
)
#: request words: a trailing Korean predicate is framing only when it holds one of these (lemmas)
_TRIGGERS = frozenset(
    "필요 필요하 찾 원하 희망 바라 구하 요청 요구 문의 부탁 검토 확보 도입 보유 모색 물색 추천 소개 의뢰 "
    "수배 발굴 제안 싶".split()
)
#: words that may sit in a framing tail besides the triggers (generic heads, joining verbs, auxiliaries)
_TAIL_WORDS = _TRIGGERS | frozenset(
    "기술 기술이전 이전 솔루션 방안 관련 분야 쪽 부분 기관 곳 업체 기업 회사 파트너 특허 것 수 중 등 "
    "결합 융합 접목 통합 조합 연계 활용 적용 위하 대하 관하 하 되 있 없 주 드리 싶 좋 가능 여부 시 때".split()
)
_TAIL_TAGS = ("J", "E", "XS", "VX", "VCP", "VCN", "SF", "SP", "SE", "SO", "MAG", "MAJ")
_ANCHOR_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "XR", "SL", "SH", "SN", "XSN"})
#: words that carry no technology content: they do not make a piece long enough on their own
_GENERIC = _TAIL_WORDS | frozenset(
    "방법 장치 시스템 제조 제조방법 방식 이용 사용 포함 기반 용도 구조 개발 공정 단계 수단 그 이 상기 "
    "당사 저희 우리 본사".split()
)
_CONTENT_TAGS = frozenset({"NNG", "NNP", "XR", "SH", "VV", "VA"})
#: English function and generic words: like 방법 / 장치 they do not make a piece long enough on their own
#: (``System therefor``, ``and the method thereof`` stay with the title they close)
_EN_GENERIC = frozenset(
    "a an the of for in on to by with from into using based thereof therefor therewith same said such its "
    "method methods apparatus apparatuses system systems device devices process processes technology "
    "technologies means use".split()
)
#: a Latin-script word right before / after an English connector (both sides Latin: inside an English phrase)
_LATIN_END = re.compile(r"[A-Za-z0-9)\]]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9(\[]")
#: a sentence describing the company rather than asking: "ESS 운영사입니다", "… 솔루션을 개발하고 있습니다",
#: "… 서비스를 준비 중이며", "… 원료로 쓸 예정입니다", "We are a …", "Our company makes …"
_COMPANY_NOUN = re.compile(r"(?:회사|기업|스타트업|업체|제조사|운영사|개발사|공급사|법인|연구소|기관|병원|팀)$")
_CONTEXT_VERBS = frozenset("개발 준비 운영 생산 판매 제조 기획 진행 공급 사용 쓰 연구 구축 보유하 만들".split())
_EN_CONTEXT = re.compile(
    r"^(?:we\s+are\s+an?\b|we're\s+an?\b|our\s+(?:company|team|firm)\s+(?:is|makes|develops|produces|sells|builds|operates)\b|"
    r"we\s+(?:make|develop|produce|sell|build|operate|manufacture)\b)(?!.*\b(?:need|looking|seek|want|require)\w*\b)",
    re.IGNORECASE,
)


def _kiwi() -> Any:
    from matcher.text.tokenize import kiwi

    return kiwi()


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[Any, ...]:
    return tuple(_kiwi().tokenize(text)) if _HANGUL.search(text) else ()


def _is_tail(tok: Any) -> bool:
    return tok.tag.startswith(_TAIL_TAGS) or tok.form in _TAIL_WORDS


def _strip_ko_tail(text: str) -> str:
    """``배터리 관리 기술이 필요합니다`` → ``배터리 관리``; unchanged without a request word in the tail."""
    toks = _tokens(text)
    i = len(toks)
    while i > 0 and _is_tail(toks[i - 1]):
        i -= 1
    for j in range(max(i, 1), len(toks)):
        if toks[j - 1].tag in _ANCHOR_TAGS and any(t.form in _TRIGGERS for t in toks[j:]):
            return text[: toks[j - 1].start + toks[j - 1].len].rstrip()
    return text


def is_context(text: str) -> bool:
    """Whether a sentence or clause describes the demander (company, ongoing work, plans) with no request."""
    if _EN_CONTEXT.match(text.strip()):
        return True
    toks = [t for t in _tokens(text) if not t.tag.startswith(("S", "E"))]
    if not toks or any(t.form in _TRIGGERS for t in toks):
        return False
    if toks[-1].tag == "VCP" and len(toks) > 1 and _COMPANY_NOUN.search(toks[-2].form):
        return True
    ongoing = any(t.tag == "VX" and t.form == "있" for t in toks) or any(
        t.form in ("중", "예정", "계획") and t.tag in ("NNB", "NNG") for t in toks[-3:])
    return ongoing and any(t.form in _CONTEXT_VERBS for t in toks)


def strip_framing(text: str) -> str:
    """``text`` without leading / trailing request framing (Korean or English); never empties it."""
    out = text.strip()
    out = _EN_LEAD.sub("", out, count=1)
    out = _KO_LEAD.sub("", out, count=1)
    if _HANGUL.search(out):
        out = _strip_ko_tail(out)
    out = _EN_TAIL.sub("", out).strip()
    return out if re.search(r"\w", out) else text.strip()


# ------------------------------------------------------------------------------------------ weights
def _weight(text: str) -> float:
    """Length in "facet units": 6 Hangul syllables or 3 Latin words make one."""
    return len(_HANGUL.findall(text)) / 6 + len(_LATIN_WORD.findall(text)) / 3


@lru_cache(maxsize=4096)
def content_weight(text: str) -> float:
    """Weight of the content words only (framing and generic words dropped), see the module doc."""
    words = _LATIN_WORD.findall(text)
    alpha = [w for w in words if w.isalpha()]
    # an all-caps English title (``METHOD THEREOF``): its words are words, not acronyms
    shouted = len(alpha) > 1 and all(w.isupper() for w in alpha) and any(w.lower() in _EN_GENERIC for w in alpha)
    latin = sum(0.5 if _CODE.match(w) and not (shouted and w.isalpha()) else 1 / 3 for w in words
                if w.lower() not in _BOILERPLATE and w.lower() not in _EN_GENERIC and not w.isdigit())
    hangul = sum(len(_HANGUL.findall(t.form)) for t in _tokens(text)
                 if t.tag in _CONTENT_TAGS and t.form not in _GENERIC)
    return hangul / 6 + latin


def _clean(text: str) -> str:
    text = _BULLET.sub("", text.strip())
    text = _LEADING.sub("", text.strip())
    return text.strip().strip(",;、").strip()


def _facet(text: str) -> str:
    return _clean(strip_framing(_clean(text)))


def _is_boilerplate(text: str) -> bool:
    words = [_KEY_DROP.sub("", w).lower() for w in text.split()]
    return all(w in _BOILERPLATE or not w for w in words)


# ------------------------------------------------------------------------------------------ structure
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


def _joining_particles(sentence: str) -> list[tuple[int, int, int]]:
    """Cuts at Korean conjunctive particles (Kiwi tag JC) followed by a space, with their level.

    The particle is dropped with the cut (``SLAM과 배터리`` → ``SLAM`` | ``배터리``); the analyser, not a regex,
    decides what is a particle, so ``결과와`` is not cut inside ``결과``.
    """
    cuts = []
    for tok in _tokens(sentence):
        end = tok.start + tok.len
        if tok.tag == "JC" and tok.form in _JOINING and end < len(sentence) and sentence[end].isspace():
            stop = end
            while stop < len(sentence) and sentence[stop].isspace():
                stop += 1
            cuts.append((tok.start, stop, _JOINING[tok.form]))
    return cuts


def _is_embedded(part: str, m: re.Match[str]) -> bool:
    """An English connector between two Latin words of a Korean sentence (``… Environments and System
    therefor를``, ``SLAM and BMS를``): it joins inside an English phrase the sentence quotes, so it lists like
    ``및`` (level 3) instead of structuring the sentence (level 2)."""
    if not _HANGUL.search(part) or not re.match(r",?\s+(?:and|plus)\s+$", m.group(), re.IGNORECASE):
        return False
    return bool(_LATIN_END.search(part[: m.start()]) and _LATIN_START.match(part[m.end() :]))


def _embedded_and(part: str) -> list[tuple[int, int, int]]:
    """Level-3 cuts at the English connectors :func:`_is_embedded` demotes."""
    return [(m.start(), m.end(), 3) for m in _EXPLICIT.finditer(part) if m.start() > 0 and _is_embedded(part, m)]


def _spans(part: str, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for a, b in sorted(cuts):
        if a >= start:  # skip a cut overlapping the previous one
            bounds.append((start, a))
            start = b
    bounds.append((start, len(part)))
    spans: list[tuple[int, int]] = []
    for a, b in bounds:
        if not part[a:b].strip():
            continue
        if spans and _ANAPHOR.match(_clean(part[a:b])):
            spans[-1] = (spans[-1][0], b)  # "…, 이의 제조방법" continues the previous piece
        else:
            spans.append((a, b))
    return spans


def _merge_short(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Merge spans of ``text`` whose content weight is below :data:`MIN_WEIGHT` into a neighbour:
    the previous one for a generic-only piece (``… 방법 및 장치``), else the shorter one."""
    spans = list(spans)
    while len(spans) > 1:
        weights = [content_weight(_facet(text[a:b])) for a, b in spans]
        short = [i for i, w in enumerate(weights) if w < MIN_WEIGHT]
        if not short:
            break
        i = min(short, key=lambda k: (weights[k], k))
        if i == 0:
            j = 1
        elif i == len(spans) - 1 or weights[i] == 0:
            j = i - 1
        else:
            j = i - 1 if weights[i - 1] <= weights[i + 1] else i + 1
        lo, hi = min(i, j), max(i, j)
        spans[lo : hi + 1] = [(spans[lo][0], spans[hi][1])]
    return spans


def _bare(text: str) -> bool:
    """A noun phrase without a predicate or an ending of its own (``EDR``, ``제품의 대칭성``)."""
    return not any(t.tag.startswith(("V", "XSV", "XSA", "E")) for t in _tokens(text))


def _modifies_a_head(text: str) -> bool:
    """``유전자알고리즘을 이용한 건축물의 …``: a noun with a particle, a predicate with an adnominal ending,
    then a head noun — the shape of a patent title whose first argument was coordinated."""
    toks = _tokens(text)
    for e, tok in enumerate(toks):
        if tok.tag == "ETM" and any(t.tag in _ANCHOR_TAGS for t in toks[e + 1 :]):
            return any(t.tag.startswith("J") and p.tag in _ANCHOR_TAGS for p, t in zip(toks, toks[1:e], strict=False))
    return False


def _drop_inner(part: str, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop ``및`` / ``와·과`` cuts that coordinate two arguments inside one title: ``사례기반추론과 유전자
    알고리즘을 이용한 공사비 예측 시스템`` (a short bare left conjunct — at most one unit — and a right
    conjunct modifying a head)."""
    kept, start = [], 0
    for k, (a, b) in enumerate(cuts):
        stop = cuts[k + 1][0] if k + 1 < len(cuts) else len(part)
        left, right = part[start:a], part[b:stop]
        if (part[a:b].strip() != "," and 0 < content_weight(left) <= 1.0 and not _ANAPHOR.match(left.strip())
                and _bare(left) and _modifies_a_head(right)):
            continue
        kept.append((a, b))
        start = b
    return kept


def _clauses(sentence: str) -> list[str]:
    """Pieces of one sentence (framing already stripped), cut by separator strength (module doc, step 4)."""
    parts = [p for p in _STRONG.split(sentence) if p.strip()]
    particles = [_joining_particles(p) + _embedded_and(p) for p in parts]
    explicit = [[(m.start(), m.end()) for m in _EXPLICIT.finditer(p) if m.start() > 0 and not _is_embedded(p, m)]
                + [(a, b) for a, b, lv in found if lv == 2]
                for p, found in zip(parts, particles, strict=True)]
    # "A 및 B 그리고 C", "A 및 B; C": a stronger connector anywhere keeps the listing inside A 및 B whole
    stronger = len(parts) > 1 or any(explicit)
    pieces: list[str] = []
    for part, found, strong in zip(parts, particles, explicit, strict=True):
        if stronger:
            cuts = strong + ([(m.start(), m.end()) for m in _COMMA.finditer(part)] if strong else [])
        else:
            cuts = [(m.start(), m.end()) for m in _LISTING.finditer(part)]
            cuts += [(a, b) for a, b, level in found if level == 3]
            cuts = _drop_inner(part, sorted(cuts))
        spans = _merge_short(_spans(part, cuts), part)
        pieces.extend(part[a:b].strip() for a, b in spans)
    return [p for p in pieces if _facet(p) and not _is_boilerplate(_facet(p))]


def _merge_units(units: list[str]) -> list[str]:
    """Merge units below :data:`MIN_WEIGHT` into the previous unit (the next one for the first)."""
    out = list(units)
    i = 0
    while len(out) > 1 and i < len(out):
        if content_weight(_facet(out[i])) < MIN_WEIGHT:
            j = i - 1 if i > 0 else 1
            lo, hi = min(i, j), max(i, j)
            out[lo : hi + 1] = [f"{out[lo]} {out[hi]}"]
            i = lo
        else:
            i += 1
    return out


def _dedupe(units: list[str]) -> list[str]:
    seen, out = set(), []
    for u in units:
        key = _KEY_DROP.sub("", u).lower()
        if key and key not in seen:
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
    items = _items(text)
    as_list = sum(listed for _, listed in items) >= 2
    sentences = [(s, listed) for item, listed in items for s in _sentences(item)]
    units: list[str] = []
    for k, (sentence, listed) in enumerate(sentences):
        if sentence.rstrip().endswith((":", "：")) and k < len(sentences) - 1:
            continue  # a lead-in such as "다음 기술이 필요합니다:" before the listed needs
        body = strip_framing(sentence)
        if listed and as_list:
            units.append(body)
        else:
            units.extend(_clauses(body))
    asked = [u for u in units if not is_context(u)]
    units = asked or units  # context sentences ("… 스타트업입니다") are not requirements, unless nothing else is
    facets = _dedupe([f for f in (_facet(u) for u in _merge_units(units)) if not _is_boilerplate(f)])
    if not facets:
        return [_clean(text) or text.strip()]
    return _fit(facets, max_facets)
