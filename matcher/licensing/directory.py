"""Company directory: every organisation that applied for a patent of the index, or was declared.

One :class:`OrgProfile` per normalised name (:func:`matcher.companies.company_key` for companies,
spacing-free names for universities, institutes, hospitals and government bodies; persons are not
organisations and are skipped). A profile carries

* ``patents``: positions (in the index version) of the technologies it applied for, co-applications included;
* ``coapplications``: for each institution it co-applied with, the positions of those joint patents;
* ``demands``: indices of the saved demand profiles whose ``company`` is this organisation;
* the declared record's description, industry codes (KSIC) and products, when ``companies.jsonl`` has one;
* ``aliases``: every raw spelling seen, so the merges can be listed (:meth:`CompanyDirectory.merges`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from matcher.companies import company_key, display_name
from matcher.ingest.applicants import INSTITUTION_KINDS, applicant_kind
from matcher.institutions import InstitutionRegistry
from matcher.records import Company, DemandProfile, Technology

_SPACE = re.compile(r"\s+")


def org_key(name: str, kind: str) -> str:
    """The directory key of an applicant name of the given kind."""
    if kind == "company":
        return company_key(name)
    return _SPACE.sub("", name).casefold()


@dataclass
class OrgProfile:
    """One organisation: identity, portfolio and what is known about its business."""

    key: str
    kind: str
    name: str = ""
    aliases: Counter[str] = field(default_factory=Counter)
    patents: list[int] = field(default_factory=list)
    coapplications: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    demands: list[int] = field(default_factory=list)
    description: str = ""
    industry_codes: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    declared: bool = False

    @property
    def profile_text(self) -> str:
        """What the company says it does (description, products, industry codes)."""
        parts = [self.description, " ".join(self.products), " ".join(self.industry_codes)]
        return "\n".join(p for p in parts if p.strip())

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "aliases": sorted(self.aliases),
            "patents": len(self.patents),
            "coapplications": {k: len(v) for k, v in sorted(self.coapplications.items())},
            "demands": len(self.demands),
            "industry_codes": list(self.industry_codes),
            "products": list(self.products),
        }


class CompanyDirectory:
    """Organisations of an index version, keyed by normalised name."""

    def __init__(self, profiles: dict[str, OrgProfile]) -> None:
        self.profiles = profiles
        #: every spelling's key → its organisation (declared aliases may normalise to other keys)
        self.lookup: dict[str, OrgProfile] = {}
        for org in profiles.values():
            for alias in org.aliases:
                self.lookup.setdefault(org_key(alias, org.kind), org)
        self.lookup.update(profiles)

    @classmethod
    def build(
        cls,
        technologies: Sequence[Technology],
        companies: Sequence[Company] = (),
        demands: Sequence[DemandProfile] = (),
        registry: InstitutionRegistry | None = None,
    ) -> CompanyDirectory:
        """Profiles of every organisation. With a ``registry``, names of declared institutions (and their
        aliases: ``도담병원`` for a hospital) take the declared kind, so they are never proposed as companies."""
        profiles: dict[str, OrgProfile] = {}
        known_kinds: dict[str, str] = {}  # applicant names repeat across records: each classified and keyed once
        known_keys: dict[tuple[str, str], str] = {}

        def kind_of(name: str) -> str:
            kind = known_kinds.get(name)
            if kind is None:
                kind = known_kinds[name] = classify(name)
            return kind

        def classify(name: str) -> str:
            declared = registry.kind_of(name) if registry is not None else None
            if declared is not None:
                return declared
            if registry is not None and registry.canonical(name) is not None:
                return applicant_kind(name) if applicant_kind(name) in INSTITUTION_KINDS else "institute"
            return applicant_kind(name)

        def profile(name: str, kind: str) -> OrgProfile:
            key = known_keys.get((name, kind))
            if key is None:
                key = known_keys[name, kind] = org_key(name, kind)
            found = profiles.get(key)
            if found is None:
                found = profiles[key] = OrgProfile(key=key, kind=kind)
            found.aliases[name.strip()] += 1
            return found

        for pos, tech in enumerate(technologies):
            kinds = [(a, kind_of(a)) for a in tech.applicants if a.strip()]
            members = [profile(a, k) for a, k in kinds if k != "person"]
            institutions = [p for p in members if p.kind != "company"]
            for org in {m.key: m for m in members}.values():
                org.patents.append(pos)
                if org.kind == "company":
                    for inst in {i.key: i for i in institutions}.values():
                        org.coapplications[inst.key].append(pos)
        for company in companies:
            keys = [company_key(n) for n in (company.name, *company.aliases) if n.strip()]
            target = next((profiles[k] for k in keys if k in profiles), None)
            if target is None:
                target = profile(company.name, "company")
            else:
                target.aliases[company.name.strip()] += 1
            for alias in company.aliases:
                target.aliases[alias.strip()] += 1
                other = profiles.get(company_key(alias))
                if other is not None and other is not target:  # a declared alias joins two spellings
                    _absorb(target, other)
                    for k, v in list(profiles.items()):
                        if v is other:
                            profiles[k] = target
            target.declared = True
            target.kind = "company"
            target.description = company.description
            target.industry_codes = tuple(company.industry_codes)
            target.products = tuple(company.products)
            target.name = company.name
        for i, demand in enumerate(demands):
            if demand.company.strip():
                org = profiles.get(company_key(demand.company))
                if org is None:
                    org = profile(demand.company, "company")
                org.demands.append(i)
        unique: dict[str, OrgProfile] = {}
        for org in profiles.values():
            if not org.name:
                org.name = display_name(org.aliases.elements()) if org.kind == "company" else org.aliases.most_common(1)[0][0]
            org.patents = sorted(set(org.patents))
            unique[org.key] = org
        return cls(unique)

    def __len__(self) -> int:
        return len(self.profiles)

    def get(self, name: str) -> OrgProfile | None:
        """The organisation for a raw or canonical name (any spelling), else ``None``."""
        for kind in ("company", "university"):
            found = self.lookup.get(org_key(name, kind))
            if found is not None:
                return found
        return None

    def candidates(self, include_institutions: bool = False) -> list[OrgProfile]:
        """Licensee candidates: companies, plus institutions when asked for; sorted by key."""
        keep = [p for p in self.profiles.values() if p.kind == "company" or include_institutions]
        return sorted(keep, key=lambda p: p.key)

    def merges(self) -> list[dict[str, Any]]:
        """Organisations known under several raw spellings: the normalisation's merges, for the report."""
        rows = [
            {"name": p.name, "key": p.key, "kind": p.kind, "aliases": sorted(p.aliases),
             "count": sum(p.aliases.values())}
            for p in self.profiles.values()
            if len(p.aliases) > 1
        ]
        return sorted(rows, key=lambda r: (-r["count"], r["key"]))


def _absorb(target: OrgProfile, other: OrgProfile) -> None:
    target.aliases.update(other.aliases)
    target.patents.extend(other.patents)
    for inst, positions in other.coapplications.items():
        target.coapplications[inst].extend(positions)
    target.demands.extend(other.demands)
