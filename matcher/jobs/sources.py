"""Read every ``[[sources]]`` of a job config into one record set; a source that is missing (a glob that
matches nothing included), holds a file that cannot be read at all, or yields nothing fails the run,
naming it: a lost or broken drop is never read as "every record removed"."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError, MatcherError
from matcher.ingest import Corpus, ingest_paths
from matcher.ingest.report import FILE_FIELD
from matcher.jobs.config import NightlyConfig, SourceConfig


class SourceError(MatcherError):
    """A configured source is missing or unreadable."""


@dataclass
class SourcesResult:
    corpus: Corpus
    reports: list[dict[str, Any]] = field(default_factory=list)


def _paths(config: NightlyConfig, source: SourceConfig) -> list[Path]:
    path = config.path(source.path)
    text = str(path)
    if any(c in text for c in "*?["):
        found = sorted(Path(p) for p in glob.glob(text, recursive=True))
        if not found:
            raise SourceError(f"source {source.path!r} ({text}): the glob matches no file; "
                              "check the path in the job config or the drop that should be there")
        return found
    if not path.exists():
        raise SourceError(f"source {source.path!r} ({path}): does not exist; "
                          "check the path in the job config or the drop that should be there")
    if not os.access(path, os.R_OK):
        raise SourceError(f"source {source.path!r} ({path}): not readable (permissions)")
    return [path]


def read_sources(config: NightlyConfig) -> SourcesResult:
    """Ingest each source (with its spec; its ``institution`` given to records naming none) and merge
    them; a technology id seen in an earlier source wins (counted as a duplicate)."""
    corpus = Corpus()
    reports: list[dict[str, Any]] = []
    seen: set[str] = set()
    for source in config.sources:
        paths = _paths(config, source)
        spec = config.path(source.spec) if source.spec else None
        if spec is not None and not spec.is_file():
            raise SourceError(f"source {source.path!r}: its spec {spec} does not exist")
        try:
            result = ingest_paths(paths, spec=spec)
        except (InputFileError, OSError) as exc:
            raise SourceError(f"source {source.path!r}: cannot be read: {exc}") from exc
        broken = [r for r in result.report.rejects if r.field == FILE_FIELD]
        if broken:
            raise SourceError(f"source {source.path!r}: file {broken[0].file} cannot be read: {broken[0].reason}"
                              + (f" (and {len(broken) - 1} more files)" if len(broken) > 1 else ""))
        duplicates = 0
        for tech in result.technologies:
            if tech.id in seen:
                duplicates += 1
                continue
            seen.add(tech.id)
            if source.institution and not tech.institutions:
                tech = replace(tech, institutions=(source.institution,))
            corpus.technologies.append(tech)
        corpus.companies.extend(result.companies)
        corpus.institutions.extend(result.institutions)
        corpus.demands.extend(result.demands)
        report = result.report.to_dict()
        reports.append({"source": source.path, **{k: report[k] for k in ("read", "ingested", "duplicates",
                                                                          "rejected")},
                        "duplicates_across_sources": duplicates})
    if not corpus.technologies:
        raise SourceError(f"the sources ({', '.join(s.path for s in config.sources)}) hold no technologies")
    return SourcesResult(corpus, reports)
