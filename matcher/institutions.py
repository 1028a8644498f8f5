"""Institutions by name, not by spelling: one canonical name per institution of an index version.

Key bindings and filters name an institution however an officer writes it — a declared alias (``누리대``),
different spacing (``누리대학교산학협력단``), with or without ``산학협력단`` / ``재단법인``, or its English name
(``Nuri University Industry-Academic Cooperation Foundation``). :class:`InstitutionRegistry` maps every
such spelling to the canonical name (the declared name in ``institutions.jsonl``, else the spelling found
in the technologies); an unknown name is refused, listing the known ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from matcher.errors import ValidationError
from matcher.records import Institution, Technology

#: words that do not tell two institutions apart (legal forms, the tech-transfer unit, English forms)
_NOISE = re.compile(
    r"산학협력단|산학협력재단|산학협력처|재단법인|학교법인|사단법인|\(재\)|\(사\)|"
    r"industry[\s-]*(academic|academia|university)[\s-]*cooperation[\s-]*foundation|r&db foundation|"
    r"cooperation foundation|foundation",
    re.IGNORECASE,
)
_DROP = re.compile(r"[\W_]+")


def institution_key(name: str) -> str:
    """A spelling-insensitive key: NFKC, case, spacing, punctuation and legal/unit words ignored;
    ``Univ.`` reads as ``university``."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = re.sub(r"\buniv\b\.?", "university", text)
    text = re.sub(r"\binst\b\.?", "institute", text)
    text = _NOISE.sub(" ", text)
    return _DROP.sub("", text)


def _short_key(key: str) -> str | None:
    """``누리대학교`` → ``누리대`` (a common short form); ``None`` when the key has no such ending."""
    return key[: -len("학교")] if key.endswith("대학교") and len(key) > 3 else None


class InstitutionRegistry:
    """Canonical institution names of one index version and every spelling that resolves to them."""

    def __init__(self, institutions: Sequence[Institution] = (), technologies: Sequence[Technology] = ()) -> None:
        self.declared = {i.name: i for i in institutions}
        names = list(self.declared) + sorted({n for t in technologies for n in t.institutions if n.strip()})
        self._by_key: dict[str, str] = {}
        for inst in institutions:  # declared names and aliases win over spellings found in records
            for spelling in (inst.name, *inst.aliases):
                self._add(spelling, inst.name)
        for name in names:
            self._add(name, self._by_key.get(institution_key(name), name))
        self.names = sorted(set(self._by_key.values()))

    def _add(self, spelling: str, canonical: str) -> None:
        key = institution_key(spelling)
        if key:
            self._by_key.setdefault(key, canonical)
            short = _short_key(key)
            if short:
                self._by_key.setdefault(short, canonical)

    def canonical(self, name: str) -> str | None:
        """The canonical name for any spelling, or ``None`` when it names no known institution."""
        key = institution_key(name)
        found = self._by_key.get(key)
        if found is None and _short_key(key):
            found = self._by_key.get(_short_key(key) or "")
        return found

    def resolve(self, name: str, field: str = "institution") -> str:
        """The canonical name, or a :class:`ValidationError` listing the known institutions."""
        found = self.canonical(name) if isinstance(name, str) else None
        if found is None:
            known = "; ".join(self.names) or "(none: this index names no institutions)"
            raise ValidationError(f"unknown institution {name!r}; known institutions: {known}", field=field)
        return found

    def resolve_all(self, names: Iterable[str], field: str = "institutions") -> list[str]:
        return list(dict.fromkeys(self.resolve(n, field) for n in names))

    def kind_of(self, name: str) -> str | None:
        """The declared kind (university, institute, hospital, …) of a spelling, if declared."""
        found = self.canonical(name)
        inst = self.declared.get(found) if found else None
        return inst.kind if inst else None

    def is_member(self, name: str) -> bool:
        """Whether an institution is a consortium member (undeclared institutions count as members)."""
        found = self.canonical(name)
        inst = self.declared.get(found) if found else None
        return inst.member if inst else True

    def owns(self, tech: Technology, canonical: str) -> bool:
        """Whether ``canonical`` is one of the technology's institutions (or applicants), by any spelling."""
        return any(self.canonical(n) == canonical for n in (*tech.institutions, *tech.applicants) if n.strip())
