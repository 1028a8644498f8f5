"""``matcher nightly``: re-index the configured sources when they changed, behind a gate.

One run, under the index's nightly lock (:mod:`matcher.jobs.lock`, taken before anything else):

1. *ingest* every ``[[sources]]`` (:mod:`matcher.jobs.sources`; a missing or unreadable source fails the run);
2. *diff* the records against the **active** version (:mod:`matcher.jobs.diff`): nothing changed → status
   ``unchanged``, nothing embedded, no version created;
3. *build* a new version from the whole new record set with :func:`matcher.build.build_index` (staged,
   not activated; the active version's pipeline unless ``MATCHER_PIPELINE`` / ``MATCHER_ENCODER`` say otherwise), whose embedding cache (``INDEX/embeddings.sqlite``) and staging directory mean only
   added and changed texts are embedded — in this process or, with ``[job] runner = "ray"``, on a Ray
   cluster (:mod:`matcher.runners`) — and a run killed half-way resumes where it stopped; staging
   directories of other builds nobody holds are removed first;
4. *gate* the staged version (:mod:`matcher.jobs.gate`): refused → the active version stays, status ``refused``;
5. *activate* it and call the hooks (:mod:`matcher.jobs.hooks`: alerts).

Every run appends its report to ``INDEX/nightly-runs.jsonl`` and, when asked, writes the Prometheus textfile
(:mod:`matcher.jobs.metrics`). Each stage logs one JSON object (logger ``matcher.nightly``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from matcher import build_stages
from matcher.build import build_index, load_encoders
from matcher.encoders.base import Encoder
from matcher.errors import MatcherError, VersionCheckError
from matcher.ingest import Corpus
from matcher.jobs.config import NightlyConfig
from matcher.jobs.diff import OTHER_FILES, RecordDiff, diff_records, read_rows, set_digest
from matcher.jobs.gate import GateCheck, GateResult, run_gate
from matcher.jobs.hooks import NightlyHooks, NoHooks, default_hooks
from matcher.jobs.lock import NightlyBusy, nightly_lock
from matcher.jobs.metrics import write_metrics
from matcher.jobs.report import NightlyReport, append_run, last_success
from matcher.jobs.sources import read_sources
from matcher.runners import configured_runner
from matcher.store import lifecycle
from matcher.store.staging import remove_stale
from matcher.store.versions import RECORDS, IndexStore, IndexVersion

if TYPE_CHECKING:
    from matcher.retrieval.config import PipelineConfig

log = logging.getLogger("matcher.nightly")
T = TypeVar("T")

#: called with (stage, status, figures) as each stage starts and ends (the CLI's progress lines)
OnStage = Callable[[str, str, dict[str, Any]], None]


@contextmanager
def _stage(name: str, on_stage: OnStage | None) -> Iterator[dict[str, Any]]:
    """Log the stage's start and end as JSON lines; the block fills in its figures."""
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    if on_stage is not None:
        on_stage(name, "started", figures)
    try:
        yield figures
    except BaseException as exc:
        status, figures["error"] = "failed", f"{type(exc).__name__}: {exc}"
        raise
    else:
        status = "done"
    finally:
        figures["seconds"] = round(time.perf_counter() - started, 3)
        log.info(json.dumps({"event": "nightly", "stage": name, "status": status, **figures},
                            ensure_ascii=False, default=str))
        if on_stage is not None:
            on_stage(name, status, figures)


def run_nightly(config: NightlyConfig, *, encoders: Mapping[str, Encoder] | None = None,
                hooks: NightlyHooks | None = None, metrics: Path | None = None,
                on_stage: OnStage | None = None) -> NightlyReport:
    """One nightly run with ``config`` (see the module docstring); never raises for a failed run: the
    report's ``status`` says what happened (``exit_code`` for the command). ``encoders`` supply
    already-loaded encoders by name (tests); ``metrics`` (default ``job.metrics``) the textfile to write."""
    started = time.perf_counter()
    report = NightlyReport()
    index_dir = config.index_dir
    try:
        with nightly_lock(index_dir):
            try:
                _run(config, report, encoders, hooks or default_hooks(config), on_stage)
            except MatcherError as exc:
                report.status, report.error = "failed", str(exc)
            except Exception as exc:  # a job reports every failure; the traceback goes to the log
                log.exception("nightly run failed")
                report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
            _finish(report, started)
            append_run(index_dir, report)
    except NightlyBusy as exc:
        report.status, report.error = "busy", str(exc)
        _finish(report, started)
        append_run(index_dir, report)  # one short appended line: safe beside the running run's
    log.info(json.dumps({"event": "nightly", "stage": "run", **report.to_dict()}, ensure_ascii=False, default=str))
    target = metrics or (config.path(config.job.metrics) if config.job.metrics else None)
    if target is not None:
        write_metrics(target, report.to_dict(), last_success(index_dir))
    return report


def _finish(report: NightlyReport, started: float) -> None:
    report.seconds = time.perf_counter() - started
    report.finished = time.time()


def _run(config: NightlyConfig, report: NightlyReport, given: Mapping[str, Encoder] | None,
         hooks: NightlyHooks, on_stage: OnStage | None) -> None:
    index_dir = config.index_dir
    store = IndexStore(index_dir)
    with _stage("ingest", on_stage) as figures:
        sources = read_sources(config)
        report.sources = sources.reports
        figures.update(technologies=len(sources.corpus.technologies), sources=sources.reports)
    corpus = sources.corpus
    with _stage("diff", on_stage) as figures:
        current = store.current_name()
        report.previous = current
        diff = _diff(store, current, corpus)
        report.added, report.changed, report.removed = len(diff.added), len(diff.changed), len(diff.removed)
        figures.update(active=current, **diff.counts(), other=list(diff.other))
    if current is not None and diff.empty:
        report.status, report.version = "unchanged", current
        remove_stale(index_dir, 0)  # no build to resume: staging left by killed runs goes
        return
    from matcher.settings import settings_from_env

    settings = settings_from_env()
    pipeline = _pipeline(settings.pipeline, settings.encoder, store, current)
    with _stage("encoders", on_stage) as figures:
        runner = configured_runner(config.job.runner)  # an unknown runner or Ray missing: before a model loads
        loaded = load_encoders(pipeline.encoders, None, given)
        key = build_stages.build_key(corpus.technologies, pipeline, loaded)
        figures.update(encoders=list(loaded), staging_removed=remove_stale(index_dir, 0, keep=[key]))
    with _stage("build", on_stage) as figures, runner:  # a Ray cluster the runner started stops after the build
        try:
            result = build_index(corpus, index_dir, pipeline, encoders=loaded, backend=settings.index_backend,
                                 cache_path=settings.cache, keep_versions=config.job.keep_versions,
                                 source=f"nightly: {', '.join(s.path for s in config.sources)}", activate=False,
                                 runner=runner)
        except VersionCheckError as exc:  # it did not load: the gate's first check failed
            report.gate = GateResult((GateCheck("load", False, {"error": str(exc)}),)).to_dict()
            report.status = "refused"
            figures.update(refused=str(exc))
            _hook(report, "on_refused", lambda: hooks.on_refused(report.to_dict()), None)
            return
        report.version, report.embedded, report.tokenized = result.version, result.embedded, result.tokenized
        figures.update(version=result.version, embedded=result.embedded, reused=result.reused, count=result.count,
                       tokenized=result.tokenized, runner=result.runner)
    with _stage("gate", on_stage) as figures:
        try:
            staged: IndexVersion | None = store.load(loaded, path=result.path)
        except MatcherError as exc:  # checked by the build, yet it does not load now: refused, not failed
            staged = None
            figures.update(error=str(exc))
        previous_count = store.read_manifest(store.versions_dir / current).get("count") if current else None
        gate = run_gate(store, result.version, staged, previous_count, config.gate, loaded)
        if staged is None and gate.passed:
            gate = GateResult((*gate.checks, GateCheck("load", False, {"error": figures["error"]})))
        previous = _previous(store, current, loaded, hooks)
        if staged is not None:
            report.overlaps = _hook(report, "overlaps", lambda: hooks.overlaps(previous, staged), {})
        report.gate = gate.to_dict()
        figures.update(report.gate)
    if not gate.passed:
        report.status = "refused"
        _hook(report, "on_refused", lambda: hooks.on_refused(report.to_dict()), None)
        return
    with _stage("activate", on_stage) as figures:
        lifecycle.activate(store, result.version, by="nightly", encoders=loaded)
        lifecycle.prune(store, config.job.keep_versions)
        report.status = "published"
        figures.update(version=result.version, previous=current)
    assert staged is not None  # a gate that passed loaded it
    with _stage("hooks", on_stage) as figures:
        report.alerts = _hook(report, "after_publish", lambda: hooks.after_publish(previous, staged), 0)
        figures.update(alerts=report.alerts, hook_errors=report.hook_errors)


def _pipeline(name: str | None, encoder: str | None, store: IndexStore, current: str | None) -> PipelineConfig:
    """``MATCHER_PIPELINE`` / ``MATCHER_ENCODER`` when set, else the active version's pipeline (a nightly
    run keeps what the index was built with), else the registry's default."""
    from matcher.retrieval.config import PipelineConfig, resolve_pipeline

    if name or encoder or current is None:
        return resolve_pipeline(name, encoder)
    built = store.read_manifest(store.versions_dir / current).get("pipeline")
    return PipelineConfig.from_dict(built) if isinstance(built, dict) else resolve_pipeline()


def _hook(report: NightlyReport, name: str, call: Callable[[], T], default: T) -> T:
    """A hook's answer; a hook that raises is recorded in the report (``hook_errors``) and logged, and
    the run goes on with ``default``: alerts or a notice failing never undo a publish or a refusal."""
    try:
        return call()
    except Exception as exc:
        log.exception("nightly hook %s failed", name)
        report.hook_errors.append(f"{name}: {type(exc).__name__}: {exc}")
        return default


def _diff(store: IndexStore, current: str | None, corpus: Corpus) -> RecordDiff:
    now = {kind: set_digest([r.to_dict() for r in getattr(corpus, kind)]) for kind in OTHER_FILES}
    if current is None:
        return diff_records([], corpus.technologies, {}, now)
    path = store.versions_dir / current
    before = {kind: set_digest(read_rows(path / name)) for kind, name in OTHER_FILES.items()}
    return diff_records(read_rows(path / RECORDS), corpus.technologies, before, now)


def _previous(store: IndexStore, current: str | None, encoders: Mapping[str, Encoder],
              hooks: NightlyHooks) -> IndexVersion | None:
    """The active version loaded for the hooks (``None`` without hooks, an active version or when it
    does not load with these encoders)."""
    if current is None or type(hooks) is NoHooks:  # noqa: E721 (a subclass may want it)
        return None
    try:
        return store.load(encoders, path=store.versions_dir / current)
    except MatcherError as exc:
        log.warning(json.dumps({"event": "nightly", "stage": "gate", "previous_unloadable": str(exc)}))
        return None
