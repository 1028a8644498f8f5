"""Company records: name normalisation (keys, display names, grouping of spellings).

See :mod:`matcher.companies.names`.
"""

from __future__ import annotations

from matcher.companies.names import (
    KNOWN_ALIASES,
    KNOWN_RENAMES,
    CompanyName,
    company_key,
    display_name,
    group_company_names,
    merges_report,
    strip_legal_forms,
)

__all__ = [
    "KNOWN_ALIASES",
    "KNOWN_RENAMES",
    "CompanyName",
    "company_key",
    "display_name",
    "group_company_names",
    "merges_report",
    "strip_legal_forms",
]
