"""The gate a staged version passes before the nightly run activates it.

* ``load``: the version loads with its encoders (:func:`matcher.store.lifecycle.check_version`);
* ``self_retrieval``: a deterministic sample of its own titles (``gate.sample``, chosen by a digest of the
  id) finds its record in the top 10 for at least ``gate.self_retrieval`` of them;
* ``record_count``: the record count fell by at most ``gate.max_drop`` of the active version's.

A failing check names itself and its figures; the active version is then left as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from matcher.encoders.base import Encoder
from matcher.errors import MatcherError
from matcher.jobs.config import GateConfig
from matcher.store import lifecycle
from matcher.store.versions import IndexStore, IndexVersion

TOP = 10


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.name, "passed": self.passed, **self.figures}


@dataclass(frozen=True)
class GateResult:
    checks: tuple[GateCheck, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> GateCheck | None:
        return next((c for c in self.checks if not c.passed), None)

    def to_dict(self) -> dict[str, Any]:
        failed = self.failed
        return {"passed": self.passed, "failed": failed.name if failed else None,
                "checks": [c.to_dict() for c in self.checks]}


def sample_ids(ids: list[str], size: int) -> list[str]:
    """``size`` ids chosen deterministically (smallest digests), the same on every run for the same ids."""
    return sorted(ids, key=lambda i: hashlib.sha256(i.encode()).hexdigest())[:size]


def self_retrieval(version: IndexVersion, size: int, minimum: float) -> GateCheck:
    by_id = {t.id: t for t in version.technologies}
    chosen = sample_ids(list(by_id), size)
    queries = {tech_id: (by_id[tech_id].title or by_id[tech_id].text)[:200] for tech_id in chosen}
    version.retriever.prepare(list(queries.values()))  # one batch encode per encoder, not one call per title
    found = 0
    missed: list[str] = []
    for tech_id in chosen:
        hits = version.retriever.search(queries[tech_id], TOP)
        if any(version.technologies[h.position].id == tech_id for h in hits):
            found += 1
        else:
            missed.append(tech_id)
    share = found / len(chosen) if chosen else 1.0
    return GateCheck("self_retrieval", share >= minimum,
                     {"share": round(share, 4), "minimum": minimum, "sampled": len(chosen), "found": found,
                      "missed": missed[:10]})


def record_count(count: int, previous: int | None, max_drop: float) -> GateCheck:
    drop = 0.0 if not previous else max(0.0, (previous - count) / previous)
    return GateCheck("record_count", drop <= max_drop + 1e-12,
                     {"count": count, "previous": previous, "drop": round(drop, 4), "max_drop": max_drop})


def load_check(store: IndexStore, name: str, encoders: Mapping[str, Encoder] | None) -> GateCheck:
    try:
        report = lifecycle.check_version(store, name, encoders)
    except MatcherError as exc:
        return GateCheck("load", False, {"error": str(exc)})
    return GateCheck("load", True, {"checks": list(report.checks)})


def run_gate(store: IndexStore, name: str, staged: IndexVersion | None, previous_count: int | None,
             config: GateConfig, encoders: Mapping[str, Encoder] | None) -> GateResult:
    """The checks of staged version ``name`` (``staged``: it loaded; ``None`` runs the load check only)."""
    checks = [load_check(store, name, encoders)]
    if staged is not None and checks[0].passed:
        checks.append(self_retrieval(staged, config.sample, config.self_retrieval))
        checks.append(record_count(len(staged.technologies), previous_count, config.max_drop))
    return GateResult(tuple(checks))
