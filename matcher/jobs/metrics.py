"""The nightly run's Prometheus textfile (node_exporter's textfile collector), written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matcher.files import atomic_write_text

STATUSES = ("published", "unchanged", "refused", "busy", "failed")


def render(report: dict[str, Any], last_success: float | None) -> str:
    """The textfile for a run's ``report``; ``last_success``: the end of the newest successful run."""
    lines = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" if isinstance(value, int) else f"{name}{labels} {value:.3f}"
                     for labels, value in samples)

    if last_success is not None:
        metric("matcher_nightly_last_success_timestamp_seconds", "gauge",
               "end of the last nightly run that published or found nothing changed (unix time)",
               [("", float(last_success))])
    metric("matcher_nightly_duration_seconds", "gauge", "duration of the last nightly run",
           [("", float(report.get("seconds") or 0.0))])
    metric("matcher_nightly_records", "gauge", "records added, changed and removed by the last nightly run",
           [(f'{{kind="{k}"}}', int(report.get(k) or 0)) for k in ("added", "changed", "removed")])
    metric("matcher_nightly_embedded", "gauge", "texts embedded by the last nightly run",
           [("", int(report.get("embedded") or 0))])
    metric("matcher_nightly_status", "gauge", "1 for the status of the last nightly run, 0 for the others",
           [(f'{{status="{s}"}}', int(report.get("status") == s)) for s in STATUSES])
    return "\n".join(lines) + "\n"


def write_metrics(path: Path, report: dict[str, Any], last_success: float | None) -> Path:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, render(report, last_success))
