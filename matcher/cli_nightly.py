"""``matcher nightly --config FILE``: the unattended re-index (``matcher/jobs/nightly.py``).

Exit codes: 0 published or unchanged, 3 refused by the gate (the active version stays), 75 busy (another
run holds the lock; try later), 1 failed (the message names the source or step), 2 a bad config file.
Each stage logs one JSON object per line on stderr; ``--json`` prints the run's report on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

Emit = Callable[[Any, bool, str], None]


class _JsonLines(logging.Formatter):
    """The message when it is a JSON object already, else one wrapped as ``{"level", "message"}``."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if message.startswith("{"):
            return message
        return json.dumps({"event": "nightly", "level": record.levelname.lower(), "message": message},
                          ensure_ascii=False)


def _log_to_stderr() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    logger = logging.getLogger("matcher.nightly")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def _progress(stage: str, status: str, figures: dict[str, Any]) -> None:
    if status == "started":
        sys.stdout.write(f"nightly: {stage} …\n")
    else:
        shown = {k: v for k, v in figures.items() if k not in ("sources", "checks") and v not in (None, [], {})}
        sys.stdout.write(f"nightly: {stage} {status} "
                         + " ".join(f"{k}={v}" for k, v in shown.items()) + "\n")
    sys.stdout.flush()


def cmd_nightly(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.jobs.config import load_config
    from matcher.jobs.nightly import run_nightly

    config = load_config(args.config, need_sources=True)
    handler = _log_to_stderr()
    try:
        report = run_nightly(config, metrics=args.metrics, on_stage=None if args.json or args.quiet else _progress)
    finally:
        logging.getLogger("matcher.nightly").removeHandler(handler)
    emit(report.to_dict(), args.json, report.text())
    return report.exit_code


def add_nightly_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None], emit: Emit) -> None:
    """Add ``nightly`` to the ``matcher`` subcommands ``sub``."""
    p = sub.add_parser("nightly", help="re-index the job config's sources if they changed (gated; for a timer)",
                       description="Exit: 0 published/unchanged, 3 refused by the gate, 75 busy, 1 failed.")
    p.add_argument("--config", required=True, type=Path, help="job config (TOML; see deploy/nightly.example.toml)")
    p.add_argument("--metrics", type=Path, help="Prometheus textfile to write (default: the config's job.metrics)")
    common(p)
    p.set_defaults(func=partial(cmd_nightly, emit=emit))
