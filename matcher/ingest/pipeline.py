"""``ingest_paths``: read files and directories (with or without a spec) into records and a report."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError, InputFileError
from matcher.ingest.dedupe import Deduplicator
from matcher.ingest.detect import SUPPORTED_SUFFIXES, detect_kind, needs_spec_reason, walk
from matcher.ingest.generic import read_table
from matcher.ingest.kipris_crawl import looks_like_crawl, read_kipris_crawl
from matcher.ingest.kipris_xml import read_kipris_xml
from matcher.ingest.report import FILE_FIELD, FileOutcome, FileStats, IngestReport, WarningEntry
from matcher.ingest.spec import EXTENSION_FORMATS, FORMATS, SourceSpec, load_spec
from matcher.ingest.tables import csv_table, load_table, read_csv_rows
from matcher.records import Company, DemandProfile, Institution, Technology


@dataclass(slots=True)
class IngestResult:
    """Records ingested (de-duplicated, in reading order) and the run's report."""

    technologies: list[Technology] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    institutions: list[Institution] = field(default_factory=list)
    demands: list[DemandProfile] = field(default_factory=list)
    report: IngestReport = field(default_factory=IngestReport)


@dataclass(frozen=True, slots=True)
class _Planned:
    path: Path
    display: str
    source: SourceSpec | None
    #: Set when the file is not read at all (e.g. not declared in the spec): the reject reason.
    refused: str | None = None


def _display(path: Path) -> str:
    return path.as_posix()


def _read_detected(path: Path, display: str) -> FileOutcome:
    fmt = EXTENSION_FORMATS.get(path.suffix.lower())
    if fmt == "kipris-xml":
        return read_kipris_xml(path, display)
    if fmt == "csv":
        raw = read_csv_rows(path)
        if looks_like_crawl(raw.header):
            return read_kipris_crawl(raw, display)
        table = csv_table(raw)
    elif fmt in ("jsonl", "xlsx"):
        table = load_table(path, fmt)
    else:
        outcome = FileOutcome(file=display, format="unknown")
        outcome.reject_file(
            f"unsupported file type {path.suffix or '(no extension)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)} "
            "(or give --spec with a format)"
        )
        return outcome
    kind = detect_kind(table.columns)
    if kind is None:
        outcome = FileOutcome(file=display, format=fmt, encoding=table.encoding)
        outcome.reject_file(needs_spec_reason(table.columns), rows=len(table.rows) + len(table.bad_rows))
        return outcome
    return read_table(table, display, SourceSpec(kind=kind, format=fmt), fmt)


def _read_with_source(path: Path, display: str, source: SourceSpec) -> FileOutcome:
    fmt = source.format_for(path)
    if fmt == "kipris-xml":
        return read_kipris_xml(path, display, source)
    if fmt == "kipris-crawl":
        return read_kipris_crawl(read_csv_rows(path, source.encoding), display, source)
    if fmt in ("csv", "jsonl", "xlsx"):
        table = load_table(path, fmt, source.encoding, source.sheet)
        return read_table(table, display, replace(source, format=fmt), fmt)
    outcome = FileOutcome(file=display, format="unknown", kind=source.kind)
    outcome.reject_file(
        f"cannot tell the format from the extension {path.suffix or '(none)'!r}; set format in the spec "
        f"({source.spec_file}) to one of: {', '.join(FORMATS)}"
    )
    return outcome


def read_file(path: Path, display: str, source: SourceSpec | None = None) -> FileOutcome:
    """Read one file; every problem, even an unexpected one, becomes an entry of the outcome."""
    try:
        return _read_detected(path, display) if source is None else _read_with_source(path, display, source)
    except InputFileError as exc:
        reason = exc.reason
    except Exception as exc:  # never a traceback for one bad file among good ones
        reason = f"internal error while reading ({type(exc).__name__}: {exc})"
    fmt = (source.format_for(path) if source else None) or EXTENSION_FORMATS.get(
        path.suffix.lower(), "unknown"
    )
    outcome = FileOutcome(file=display, format=fmt, kind=source.kind if source else "technology")
    outcome.reject_file(reason)
    return outcome


def _expand(path: Path) -> list[tuple[Path, str]]:
    if path.is_dir():
        return [(p, _display(path / p.relative_to(path))) for p in walk(path)]
    return [(path, _display(path))]


def _matches(source: SourceSpec, path: Path) -> bool:
    if source.path is None:
        return False
    declared = source.path
    text = declared.as_posix()
    if any(c in text for c in "*?["):
        return fnmatch.fnmatch(
            path.resolve().as_posix(), declared.parent.resolve().as_posix() + "/" + declared.name
        )
    target = declared.resolve()
    resolved = path.resolve()
    return resolved == target or (target.is_dir() and target in resolved.parents)


def _declared_files(source: SourceSpec, spec: Path) -> list[tuple[Path, str]]:
    assert source.path is not None
    text = source.path.as_posix()
    if any(c in text for c in "*?["):
        parent = source.path.parent
        matches = sorted(p for p in parent.glob(source.path.name) if p.is_file())
        return [(p, _display(p)) for p in matches]
    if not source.path.exists():
        raise InputFileError(
            source.path, f"declared by [[source]] #{source.index} of {spec} but does not exist"
        )
    return _expand(source.path)


def _plan(paths: list[Path], spec: Path | None) -> tuple[list[_Planned], list[tuple[str, str]]]:
    """Files to read with their sources, and (file, message) notes for files skipped."""
    for path in paths:
        if not path.exists():
            raise InputFileError(path, "does not exist")
    if spec is None:
        return [_Planned(p, d, None) for path in paths for p, d in _expand(path)], []
    sources = load_spec(spec)
    if not paths:
        if any(s.path is None for s in sources):
            raise ConfigError(f"{spec}: [[source]] has no path; give the files to read on the command line")
        return [_Planned(p, d, s) for s in sources for p, d in _declared_files(s, spec)], []
    planned: list[_Planned] = []
    skipped: list[tuple[str, str]] = []
    spec_resolved = spec.resolve()
    for path in paths:
        walked = path.is_dir()
        for file, display in _expand(path):
            if file.resolve() == spec_resolved:
                continue
            source = next((s for s in sources if _matches(s, file)), None)
            if source is None and len(sources) == 1 and (sources[0].path is None or not walked):
                source = sources[0]
            if source is not None:
                planned.append(_Planned(file, display, source))
            elif walked:
                skipped.append((display, f"not declared in {spec}; skipped"))
            else:
                declared = ", ".join(s.path.as_posix() for s in sources if s.path is not None)
                planned.append(
                    _Planned(file, display, None, f"not declared in {spec} (declared: {declared})")
                )
    return planned, skipped


def _unique(planned: list[_Planned]) -> list[_Planned]:
    seen: set[Path] = set()
    out = []
    for item in planned:
        key = item.path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def ingest_paths(paths: list[Path], spec: Path | None = None, progress: bool = False) -> IngestResult:
    """Read every file under ``paths`` (or the spec's sources when ``paths`` is empty).

    Raises :class:`InputFileError` when a given path does not exist or nothing at all could be
    ingested; otherwise a bad file or row is an entry in ``result.report``.
    """
    paths = [Path(p) for p in paths]
    spec = Path(spec) if spec is not None else None
    if not paths and spec is None:
        raise InputFileError(
            "(no input)", "give at least one file or directory, or a --spec declaring sources"
        )
    planned, skipped = _plan(paths, spec)
    planned = _unique(planned)
    result = IngestResult()
    report = result.report
    report.warnings.extend(WarningEntry(display, 0, FILE_FIELD, message) for display, message in skipped)
    if not planned:
        where = ", ".join(_display(p) for p in paths) or str(spec)
        raise InputFileError(where, f"contains no readable files ({', '.join(SUPPORTED_SUFFIXES)})")
    dedupe = Deduplicator()
    targets = {
        "technology": result.technologies,
        "company": result.companies,
        "institution": result.institutions,
        "demand": result.demands,
    }
    from tqdm import tqdm

    for item in tqdm(planned, desc="ingest", unit="file", disable=not progress):
        if item.refused is not None:
            outcome = FileOutcome(file=item.display, format="unknown")
            outcome.reject_file(item.refused)
        else:
            outcome = read_file(item.path, item.display, item.source)
        stats = FileStats(file=item.display, format=outcome.format, encoding=outcome.encoding)
        stats.rejected = outcome.rejected_rows
        report.rejects.extend(outcome.rejects)
        report.warnings.extend(outcome.warnings)
        for row, record in outcome.records:
            duplicate = dedupe.check(outcome.kind, record, item.display, row)
            if duplicate is None:
                stats.ingested += 1
                targets[outcome.kind].append(record)  # type: ignore[arg-type]
            else:
                stats.duplicates += 1
                report.duplicates_list.append(duplicate.entry)
                if duplicate.warning is not None:
                    report.warnings.append(duplicate.warning)
        stats.read = outcome.read
        report.files.append(stats)
    if report.ingested == 0:
        where = ", ".join(_display(p) for p in paths) or str(spec)
        problems = "; ".join(f"{r.file}: {r.reason}" for r in report.rejects[:3]) or "no data rows"
        raise InputFileError(where, f"nothing could be ingested ({report.summary()}): {problems}")
    report.company_merges = company_merges(result)
    return result


def company_merges(result: IngestResult) -> list[dict[str, Any]]:
    """Company spellings the normalisation unifies (applicant fields and declared companies)."""
    from matcher.companies import group_company_names, merges_report
    from matcher.ingest.applicants import applicant_kind

    names = [a for t in result.technologies for a in t.applicants if applicant_kind(a) == "company"]
    names += [n for c in result.companies for n in (c.name, *c.aliases) if n.strip()]
    return merges_report(group_company_names(names))
