"""Applicant names: split space-joined lists, classify each name, pick out the institutions.

KIPRIS crawl exports join co-applicants with single spaces although names contain spaces
(``'가나대학교 산학협력단 미래테크(주)'`` is two applicants). :func:`split_applicants` rebuilds
the names from the tokens:

1. tokens with an unclosed ``(`` are joined up to the closing ``)``;
2. an organisational unit (``산학협력단``, ``연구센터``, ``연구소``, ``병원`` ...) binds to a preceding
   ``...대학교``/``...대학`` token, and a bare unit token binds to whatever token precedes it;
3. a bare legal form (``주식회사``, ``(주)``, ``㈜``, ``유한회사``, ``재단법인``, ``사단법인`` ...) binds to an
   adjacent token that is not yet part of a name: every way of binding is scored (a legal form left
   alone costs most; a leftover token that looks like a person's name is preferred to one that does not;
   on a tie the legal form binds to the token before it, as in ``'다온 주식회사'``);
4. every other token is one applicant (usually a person, ``'홍길동 성춘향'``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from matcher.companies.forms import COMPANY_FORMS, LEGAL_FORMS, NONPROFIT_FORMS

INSTITUTION_KINDS = frozenset({"university", "institute", "hospital", "government"})

#: Tokens that name a unit of the university (or institute) whose name precedes them.
UNIT_SUFFIXES = (
    "산학협력단", "산학협력재단", "산학협력처", "연구센터", "연구소", "연구단", "기술지주회사", "기술지주",
    "부속병원", "병원", "의료원", "캠퍼스",
)  # fmt: skip
_UNIVERSITY_TOKEN = re.compile(r"(대학교|대학|대학원|학교)$")
_LATIN_COMPANY = re.compile(
    r"\b(co\.?|ltd\.?|inc\.?|corp\.?|corporation|company|gmbh|ag|s\.?a\.?|llc|limited|plc|b\.?v\.?|n\.?v\.?|k\.?k\.?)(\b|$)",
    re.IGNORECASE,
)
_LATIN_PERSON = re.compile(r"^[A-Z][A-Za-z'\-]+,\s*[A-Z][A-Za-z'\- ]+$")
_UNIVERSITY = re.compile(
    r"대학교|대학원|대학(?!로)|산학협력단|산학협력재단|학교법인|유니버시티|칼리지|universit|college",
    re.IGNORECASE,
)
_HOSPITAL = re.compile(r"병원|의료원|의료재단|의료법인|\(의\)|메디컬센터|의료센터|hospital|medicalcenter|clinic",
                       re.IGNORECASE)
_INSTITUTE = re.compile(
    r"^국립|연구원|연구소|기술원|연구센터|연구재단|연구회|진흥원|평가원|정보원|재단|재단법인|사단법인|\(재\)|\(사\)|협회|학회|"
    r"과학관|화운데이션|파운데이션|foundation|institut|research",
    re.IGNORECASE,
)
_GOVERNMENT = re.compile(
    r"^대한민국|광역시$|특별시$|특별자치시$|특별자치도$|^[가-힣]{1,5}시$|도청$|시청$|군청$|구청$"
)
_PROVINCES = frozenset(
    "경기도 강원도 충청북도 충청남도 전라북도 전라남도 경상북도 경상남도 제주도".split()
)  # fmt: skip
_AGENCY = re.compile(r"^(국립)?[가-힣]{1,8}(청|처|부|위원회)$")
_BUSINESS_ENDINGS = (
    "테크", "텍", "건설", "산업", "전자", "기술", "시스템", "시스템즈", "제약", "화학", "엔지니어링", "바이오",
    "소프트", "솔루션", "코리아", "컴퍼니", "에너지", "메디칼", "메디컬", "공업", "상사", "물산", "디자인",
    "컨설팅", "센터", "랩", "넷", "통신", "정보", "식품", "약품", "소재", "기연", "엔지", "글로벌", "케미칼",
)  # fmt: skip
_SURNAMES = frozenset(
    "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 유 전 홍 고 문 양 손 배 백 허 남 심 노 하 곽 성 차 주 우 "
    "구 민 진 지 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 마 길 연 위 표 명 기 반 라 왕 금 옥 육 인 맹 제 모 "
    "탁 국 어 은 편 용 예 경 봉 사 부 가 복 태 목 형 피 두 감 음 빈 동 온 호 범 좌 팽 승 간 상 갈 단 견 당 화 창 옹 순".split()
)  # fmt: skip
_COMPOUND_SURNAMES = ("남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방", "어금", "망절")


def _compact(name: str) -> str:
    return "".join(name.split())


def has_company_form(name: str) -> bool:
    """Whether ``name`` carries a company legal form (Korean or Latin)."""
    compact = _compact(name)
    return any(form in compact for form in COMPANY_FORMS) or bool(_LATIN_COMPANY.search(name))


def looks_like_person(name: str) -> bool:
    """A Korean personal name (2-3 Hangul syllables after a surname) or ``'SURNAME, Given'``."""
    compact = _compact(name)
    if _LATIN_PERSON.match(name.strip()):
        return True
    if not re.fullmatch(r"[가-힣]{2,5}", compact) or compact.endswith(_BUSINESS_ENDINGS):
        return False
    if compact.startswith(_COMPOUND_SURNAMES):
        return 3 <= len(compact) <= 5
    return compact[0] in _SURNAMES and 2 <= len(compact) <= 4


def applicant_kind(name: str) -> str:
    """``'university'``, ``'institute'``, ``'hospital'``, ``'government'``, ``'company'`` or ``'person'``."""
    compact = _compact(name)
    if compact.startswith("대한민국"):
        return "government"
    if has_company_form(name):
        return "company"
    if _HOSPITAL.search(compact):
        return "hospital"
    if _UNIVERSITY.search(compact):
        return "university"
    if _INSTITUTE.search(compact):
        return "institute"
    if (
        compact in _PROVINCES
        or _GOVERNMENT.search(compact)
        or _AGENCY.match(compact)
        and not looks_like_person(compact)
    ):
        return "government"
    if looks_like_person(name):
        return "person"
    return "company"


def institutions_of(applicants: Iterable[str]) -> tuple[str, ...]:
    """The applicants that are universities, institutes, hospitals or government bodies, in order."""
    return tuple(dict.fromkeys(a for a in applicants if applicant_kind(a) in INSTITUTION_KINDS))


def _join_parentheses(tokens: list[str]) -> list[str]:
    merged: list[str] = []
    depth = 0
    for token in tokens:
        if depth > 0 and merged:
            merged[-1] += " " + token
        else:
            merged.append(token)
        depth = max(0, depth + token.count("(") - token.count(")"))
    return merged


class _Group:
    __slots__ = ("tokens", "bound")

    def __init__(self, token: str) -> None:
        self.tokens = [token]
        self.bound = False  # part of a multi-token name (university + unit), or carries a legal form

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def _bind_units(groups: list[_Group]) -> list[_Group]:
    out: list[_Group] = []
    for group in groups:
        token = group.tokens[0]
        previous = out[-1] if out else None
        is_unit = token.endswith(UNIT_SUFFIXES)
        bare = token in UNIT_SUFFIXES
        if previous is not None and is_unit and not previous.bound and previous.tokens[-1] not in LEGAL_FORMS:
            if bare or _UNIVERSITY_TOKEN.search(previous.tokens[-1]):
                previous.tokens.append(token)
                previous.bound = True
                continue
        out.append(group)
    return out


def _free(group: _Group) -> bool:
    """A group a bare legal form may attach to."""
    text = group.text
    return (
        not group.bound
        and text not in LEGAL_FORMS
        and not has_company_form(text)
        and not any(form in text for form in NONPROFIT_FORMS)
        and applicant_kind(text) not in ("university", "hospital", "government")
    )


def _bind_legal_forms(groups: list[_Group]) -> list[_Group]:
    legal = [i for i, g in enumerate(groups) if g.text in LEGAL_FORMS]
    if not legal:
        return groups
    options: list[list[int | None]] = []
    for i in legal:
        sides: list[int | None] = [j for j in (i - 1, i + 1) if 0 <= j < len(groups) and _free(groups[j])]
        options.append([*sides, None])
    best: tuple[float, tuple[int | None, ...]] | None = None
    combos = itertools.product(*options) if len(legal) <= 8 else [tuple(o[0] for o in options)]
    for combo in combos:
        targets = [t for t in combo if t is not None]
        if len(targets) != len(set(targets)):
            continue
        score = 0.0
        for i, target in zip(legal, combo, strict=True):
            if target is None:
                score -= 100
            elif target < i:
                score += 0.01  # tie: bind to the token before ('다온 주식회사')
        bound = set(targets) | set(legal)
        for j, group in enumerate(groups):
            if j not in bound and not group.bound:
                score += 1 if looks_like_person(group.text) else -1
        if best is None or score > best[0]:
            best = (score, combo)
    assert best is not None
    merged: dict[int, _Group] = {}
    absorbed: set[int] = set()
    for i, target in zip(legal, best[1], strict=True):
        if target is None:
            continue
        first, second = (i, target) if i < target else (target, i)
        group = _Group(groups[first].text + " " + groups[second].text)
        group.bound = True
        merged[min(first, second)] = group
        absorbed.add(max(first, second))
    return [merged.get(j, g) for j, g in enumerate(groups) if j not in absorbed]


def split_applicants(text: str, separator: str | None = None) -> tuple[str, ...]:
    """Applicant names from one cell.

    With ``separator`` (or when the cell contains ``'|'``) the cell is split on it; otherwise the
    cell is a space-joined list and names are rebuilt as described in the module docstring.
    """
    if separator is None and "|" in text:
        separator = "|"
    if separator is not None:
        return tuple(dict.fromkeys(" ".join(p.split()) for p in text.split(separator) if p.strip()))
    tokens = _join_parentheses(text.split())
    groups = _bind_units([_Group(t) for t in tokens])
    groups = _bind_legal_forms(groups)
    return tuple(dict.fromkeys(g.text for g in groups))
