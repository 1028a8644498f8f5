"""``matcher meetings packets``: briefing packets of a meeting plan (meeting pages, agendas, the grid).

:func:`add_packets_parser` adds the ``packets`` subcommand to any subparsers (the ``matcher meetings`` group
calls it: ``matcher meetings packets``). The
work is in ``matcher/meetings/packets/``. The plan is read, and the viewer checked, before any model loads;
the index version is the one the plan was made against (``index_version``), else the active one. Progress
goes to stderr, one line per ``--every`` packets; ``--json`` prints ``index.json``'s contents on stdout.
Exit 0 on success, 2 with a one-line reason (naming the file or value) on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError, NotFoundError


def _version(index: str, name: str | None) -> Any:
    """The index version ``name`` (the plan's), else the active one; an unknown name lists the known ones."""
    from matcher.store.lifecycle import require_index
    from matcher.store.versions import IndexStore

    store = require_index(IndexStore(index))
    if not name:
        return store.load()
    path = store.versions_dir / name
    if not (path / "manifest.json").is_file():
        known = ", ".join(store.versions()) or "(none)"
        raise NotFoundError(f"{index}: the plan was made against index version {name!r}, which is not there "
                            f"(pruned?); known versions: {known}; re-plan against one of them")
    return store.load(path=path)


def run_packets(args: argparse.Namespace) -> int:
    from matcher.access import ROLES, Viewer
    from matcher.meetings.packets import load_plan, write_packets

    plan = load_plan(args.plan)
    if args.role not in ROLES:
        raise ConfigError(f"unknown --role {args.role!r}; valid roles: {', '.join(ROLES)}")
    if args.role == "admin" and args.institution:
        raise ConfigError("--institution is for an officer viewer (--role officer); an admin sees everything")
    if args.every < 1:
        raise ConfigError(f"--every {args.every} is out of range; valid: an integer >= 1")
    viewer = Viewer(args.role, args.institution)
    if viewer.institution is not None:  # an unknown institution is refused before a model loads
        from matcher.store.versions import IndexStore

        IndexStore(args.index).registry().resolve(viewer.institution)
    version = _version(args.index, plan.index_version)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            rate = done / max(time.perf_counter() - started, 1e-9)
            sys.stderr.write(f"packets: {done}/{total} ({rate:.1f}/s)\n")

    report = write_packets(version, plan, Path(args.out), viewer=viewer, progress=progress, every=args.every)
    data = json.loads((Path(args.out) / "index.json").read_text(encoding="utf-8"))
    if args.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(f"{report.meetings} meeting pages, {report.agendas} agendas, the organiser's grid: "
                         f"{len(report.files)} files in {args.out} ({report.packets_per_second:.1f} packets/s); "
                         f"listed in {Path(args.out) / 'index.json'}\n")
    return 0


def add_packets_parser(subparsers: Any, name: str = "packets") -> argparse.ArgumentParser:
    """Add the packets subcommand (``name``) to ``subparsers``; it runs :func:`run_packets`."""
    p = subparsers.add_parser(name, help="briefing packets of a meeting plan: meeting pages (HTML, PDF), "
                              "agendas (PDF, .ics), the organiser's grid (HTML, PDF, CSV)")
    p.add_argument("--index", required=True, help="the index directory the plan was made against")
    p.add_argument("--plan", required=True, help="the plan JSON (matcher meetings plan)")
    p.add_argument("--out", required=True, help="output directory (meetings/, agendas/, organiser/, index.json)")
    p.add_argument("--role", default="admin", help="whose packets: admin (the organiser, sees everything; "
                   "default) or officer (another institution's confidential technologies left out)")
    p.add_argument("--institution", help="with --role officer: the officer's institution (any spelling)")
    p.add_argument("--every", type=int, default=25, help="a progress line on stderr every N packets (default 25)")
    p.add_argument("--json", action="store_true", help="print index.json (every file written) on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run_packets)
    return p
