"""The institutions a caller may see, for the page's institution filter (``GET /api/institutions``).

Names are grouped by their declared institution (``institutions.jsonl`` of the index version: a name and
its aliases) or, for undeclared names, by spelling up to spacing and case; each group is reported under
its canonical name (the declared one, else the spelling most technologies use) with the other spellings
as aliases and the number of visible technologies it holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matcher.index.store import read_jsonl
from matcher.records import Technology


def name_key(name: str) -> str:
    """A spelling's grouping key: without whitespace, case-folded."""
    return "".join(name.split()).casefold()


@lru_cache(maxsize=8)
def declared_institutions(path: str) -> tuple[dict[str, Any], ...]:
    """Rows of an index version's ``institutions.jsonl`` (versions never change once published)."""
    file = Path(path)
    return tuple(read_jsonl(file)) if file.is_file() else ()


def institution_listing(technologies: Sequence[Technology], mask: np.ndarray | None,
                        declared: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """``[{"name", "aliases", "count"}]`` over the technologies ``mask`` lets through (``None``: all),
    most technologies first; declared institutions without visible technologies are left out."""
    canonical: dict[str, str] = {}   # spelling key → canonical name
    aliases: dict[str, set[str]] = {}
    for row in declared:
        name = str(row.get("name") or "").strip()
        if not name:
            continue
        aliases.setdefault(name, set()).update(str(a) for a in row.get("aliases") or () if a)
        for spelling in (name, *(row.get("aliases") or ())):
            canonical.setdefault(name_key(str(spelling)), name)
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for i, tech in enumerate(technologies):
        if mask is not None and not mask[i]:
            continue
        groups = {}
        for name in tech.institutions:
            key = name_key(name)
            groups.setdefault(canonical.get(key, key), name)
        for group, name in groups.items():
            counts[group] += 1
            spellings.setdefault(group, Counter())[name] += 1
    out = []
    for group, count in counts.items():
        seen = spellings[group]
        name = group if group in aliases else max(seen, key=lambda s: (seen[s], s))
        names = (aliases.get(name, set()) | set(seen)) - {name}
        out.append({"name": name, "aliases": sorted(names), "count": count})
    out.sort(key=lambda r: (-r["count"], r["name"]))
    return out
