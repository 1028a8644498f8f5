"""Korean legal forms of organisations: the one table that applicant splitting and company keys share."""

from __future__ import annotations

#: Legal forms of companies, as whole tokens or inside a name.
COMPANY_FORMS = (
    "주식회사", "(주)", "㈜", "유한회사", "(유)", "유한책임회사", "합자회사", "합명회사",
    "농업회사법인", "영농조합법인", "어업회사법인", "협동조합", "조합법인",
)  # fmt: skip
#: Legal forms of non-profit bodies (foundations, associations, school and medical corporations).
NONPROFIT_FORMS = ("재단법인", "(재)", "사단법인", "(사)", "학교법인", "의료법인", "(의)", "사회복지법인")
LEGAL_FORMS = frozenset(COMPANY_FORMS + NONPROFIT_FORMS)
