"""Company-name normalisation: one key per company, one display name per group of spellings.

The same company is spelled many ways in patent applicant fields: the Korean legal form goes before
or after the name, with or without a space (``'주식회사 가나'``, ``'가나 주식회사'``, ``'가나주식회사'``),
abbreviated (``'(주)가나'``, ``'㈜가나'``, ``'( 주 ) 가나'``), or replaced by a foreign form
(``'Gana Co., Ltd.'``, ``'가나 인코포레이티드'``); Korean spellings of Latin initials alternate with the
initials themselves (``'에스케이하이닉스'`` / ``'SK하이닉스'``).

* :func:`company_key` maps every such variant to one key (pure and deterministic), so records can be
  grouped without ever merging two different companies: only legal-form noise, spacing, punctuation
  and case are dropped, plus the explicit :data:`KNOWN_ALIASES` and :data:`KNOWN_RENAMES` tables.
* :func:`display_name` picks the name to show for a group of variants.
* :func:`group_company_names` groups raw occurrences by key, :func:`merges_report` lists the groups
  that unified two or more spellings (for the ingest report, and for review).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from matcher.companies.forms import COMPANY_FORMS

__all__ = [
    "CompanyName",
    "KNOWN_ALIASES",
    "KNOWN_RENAMES",
    "company_key",
    "display_name",
    "group_company_names",
    "merges_report",
    "strip_legal_forms",
]

#: Korean spellings of Latin initials (and a few brand words) at the start of a name -> the Latin
#: spelling used in the key (lowercase, no punctuation). Applied to the compact key as a prefix rule,
#: longest entry first, so ``'에스케이하이닉스'`` and ``'SK하이닉스'`` share the key ``'sk하이닉스'``.
#: A prefix rule can only unify two names that read the same, so it cannot merge different companies.
KNOWN_ALIASES: dict[str, str] = {
    "에스케이": "sk",
    "엘지": "lg",
    "케이티": "kt",
    "케이티앤지": "ktg",  # KT&G ('&' is dropped from keys)
    "씨제이": "cj",
    "지에스": "gs",
    "엘에스": "ls",
    "에이치디": "hd",
    "엘아이지": "lig",
    "디엘": "dl",
    "포스코": "posco",
    "에쓰오일": "soil",  # S-OIL
    "에쓰대시오일": "soil",  # S-OIL as KIPRIS spells the hyphen ('대시')
    "삼성에스디아이": "삼성sdi",
    "삼성에스디에스": "삼성sds",
}

#: Whole keys of a company's former name -> the key of its current name (same legal entity renamed).
#: Only renames seen in the real data are listed: Kia Motors became Kia in 2021 and both spellings
#: occur as applicants.
KNOWN_RENAMES: dict[str, str] = {
    "기아자동차": "기아",
}


def _form_pattern(form: str) -> str:
    """A regex for a Korean legal form, tolerant of spaces inside parentheses (``'( 주 )'``)."""
    if form.startswith("(") and form.endswith(")"):
        return r"\(\s*" + r"\s*".join(re.escape(ch) for ch in form[1:-1]) + r"\s*\)"
    return re.escape(form)


#: Cooperative and agricultural/fishery corporations: stripped from keys anywhere, but from display
#: names only as separate words ('인천가나영농조합법인' reads badly as '인천가나').
_COOPERATIVE_FORMS = tuple(f for f in COMPANY_FORMS if "법인" in f or "조합" in f)
_STOCK_FORMS = tuple(f for f in COMPANY_FORMS if f not in _COOPERATIVE_FORMS) + (
    "(유한)", "(株)", "株式会社", "有限会社",
)  # fmt: skip


def _alternation(forms: Iterable[str]) -> str:
    return "|".join(_form_pattern(f) for f in sorted(set(forms), key=lambda f: (-len(f), f)))


#: Stock-company forms anywhere, plus a parenthesis broken at either end ('주) 가나', '가나 (주').
_STOCK_RE = re.compile(rf"{_alternation(_STOCK_FORMS)}|^\s*주\s*\)|\(\s*주\s*$")
_COOPERATIVE_ANYWHERE_RE = re.compile(_alternation(_COOPERATIVE_FORMS))
_COOPERATIVE_WORD_RE = re.compile(rf"(?:^|(?<=\s))(?:{_alternation(_COOPERATIVE_FORMS)})(?=\s|$)")

#: Foreign legal forms spelled in Hangul (as KIPRIS writes foreign applicants), as trailing words.
_KOREAN_FOREIGN_FORMS = (
    "컴퍼니 리미티드", "컴퍼니 엘티디", "인코포레이티드", "인코퍼레이티드", "코포레이션", "코퍼레이션",
    "리미티드", "엘티디", "엘엘씨", "게엠베하", "악티엔게젤샤프트", "가부시키가이샤", "가부시끼가이샤",
    "카부시키가이샤", "가부시키카이샤",
)  # fmt: skip
_KOREAN_FOREIGN_RE = re.compile(
    r"(?:[\s,.]+(?:"
    + "|".join(re.escape(f) for f in sorted(_KOREAN_FOREIGN_FORMS, key=len, reverse=True))
    + r"))+\s*$"
)
#: Latin legal forms: a trailing run of them ('Co., Ltd.', 'Inc.', 'GmbH & Co. KG'), each preceded by
#: a space or punctuation so that letters of the name itself ('Coway', 'Magna') are never taken.
_LATIN_FORM = (
    r"co|company|corp|corporation|inc|incorporated|ltd|limited|llc|l\.l\.c|plc|gmbh|ag|aktiengesellschaft|kg|se|"
    r"s\.?a|s\.?a\.?s|n\.?v|b\.?v|k\.?k|pte|pty|s\.?r\.?l|s\.?p\.?a|oy|ab"
)
_LATIN_TRAILING_RE = re.compile(
    rf"(?:(?:^|[\s,.&(]+)(?:{_LATIN_FORM})\.?\)?)+[\s,.]*$",
    re.IGNORECASE,
)
_LATIN_LEADING_RE = re.compile(r"^\s*kabushiki\s+kaisha\b[\s,.]*", re.IGNORECASE)

_NOT_WORD = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")
_HANGUL = re.compile(r"[가-힣]")
_EDGE_PUNCT = " ,.-·&/"


def _strip_foreign(text: str) -> str:
    text = _LATIN_LEADING_RE.sub("", text)
    previous = None
    while previous != text:  # 'Gana Co., Ltd. 주식회사' -> forms may alternate at the end
        previous = text
        text = _KOREAN_FOREIGN_RE.sub("", text)
        stripped = _LATIN_TRAILING_RE.sub("", text)
        if stripped.strip(_EDGE_PUNCT):  # never strip a name down to nothing ('AG', 'Company')
            text = stripped
        text = text.strip(_EDGE_PUNCT)
    return text


def strip_legal_forms(name: str) -> str:
    """``name`` (NFKC-normalised) without legal-form noise, spaces collapsed, case kept.

    Stock-company forms (``주식회사``, ``(주)``, ``㈜``, ``유한회사`` ...) are removed anywhere, cooperative
    forms (``영농조합법인`` ...) only as separate words, foreign forms (``Co., Ltd.``, ``Inc.``,
    ``인코포레이티드`` ...) at the end. Falls back to the cleaned input when nothing would be left.
    """
    text = unicodedata.normalize("NFKC", name)
    collapsed = _SPACES.sub(" ", text).strip()
    text = _STOCK_RE.sub(" ", text)
    text = _COOPERATIVE_WORD_RE.sub(" ", text)
    text = _SPACES.sub(" ", text).strip(_EDGE_PUNCT)
    text = _strip_foreign(text)
    text = _SPACES.sub(" ", text).strip(_EDGE_PUNCT)
    return text or collapsed


def _apply_aliases(key: str) -> str:
    for korean in sorted(KNOWN_ALIASES, key=lambda k: (-len(k), k)):
        if key.startswith(korean):
            return KNOWN_ALIASES[korean] + key[len(korean) :]
    return key


def company_key(name: str) -> str:
    """The normalisation key of a company name: equal for every spelling of the same company.

    NFKC, legal forms removed (Korean anywhere, foreign at the end), casefolded, spaces and punctuation
    dropped, then :data:`KNOWN_ALIASES` (prefix) and :data:`KNOWN_RENAMES` (whole key) applied.
    Pure and deterministic; a name that is nothing but a legal form keys on its own letters.
    """
    text = strip_legal_forms(name)
    text = _COOPERATIVE_ANYWHERE_RE.sub(" ", text).strip() or text
    key = _NOT_WORD.sub("", text.casefold())
    if not key:
        key = _NOT_WORD.sub("", unicodedata.normalize("NFKC", name).casefold())
    key = _apply_aliases(key)
    return KNOWN_RENAMES.get(key, key)


def _display_order(item: tuple[str, int]) -> tuple[int, int, int, str]:
    text, count = item
    return (-count, 0 if _HANGUL.search(text) else 1, len(text), text)


def display_name(variants: Iterable[str]) -> str:
    """The name to show for a group of spellings of one company.

    The most frequent variant once legal forms are stripped and spaces normalised (repeats in
    ``variants`` count as occurrences); ties go to a Korean form, then the shortest, then the
    lexicographically first. Empty input gives ``''``.
    """
    counts = Counter(strip_legal_forms(v) for v in variants if v.strip())
    if not counts:
        return ""
    return min(counts.items(), key=_display_order)[0]


@dataclass(frozen=True, slots=True)
class CompanyName:
    """One company: its key, display name, the distinct raw spellings seen, and how often it occurs."""

    key: str
    name: str
    aliases: tuple[str, ...]
    count: int


def group_company_names(names: Iterable[str]) -> list[CompanyName]:
    """Group raw name occurrences by :func:`company_key`, sorted by (-count, key).

    Each occurrence counts once (pass every applicant mention, not a set, to get frequencies);
    surrounding whitespace is ignored and blank names are skipped.
    """
    occurrences: dict[str, list[str]] = defaultdict(list)
    for raw in names:
        name = raw.strip()
        if name:
            occurrences[company_key(name)].append(name)
    groups = [
        CompanyName(key=key, name=display_name(found), aliases=tuple(sorted(set(found))), count=len(found))
        for key, found in occurrences.items()
    ]
    return sorted(groups, key=lambda g: (-g.count, g.key))


def merges_report(groups: list[CompanyName]) -> list[dict[str, object]]:
    """The groups that unified two or more distinct raw spellings, as plain dicts for a report."""
    return [
        {"name": g.name, "key": g.key, "aliases": list(g.aliases), "count": g.count}
        for g in groups
        if len(g.aliases) >= 2
    ]
