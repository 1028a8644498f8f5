"""Licensee candidates: company directory (portfolios, co-applications, demands) and ranking."""

from matcher.licensing.directory import CompanyDirectory, OrgProfile, org_key
from matcher.licensing.ranker import Candidate, LicenseeConfig, LicenseeRanker

__all__ = ["Candidate", "CompanyDirectory", "LicenseeConfig", "LicenseeRanker", "OrgProfile", "org_key"]
