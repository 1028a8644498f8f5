"""``matcher index list | activate | rollback``: the index lifecycle from the command line.

Registered on the ``matcher`` parser by :func:`add_index_commands`; the work is in
``matcher/store/lifecycle.py``. An unknown version or one that fails its check exits 2 with a one-line
reason (naming the version, and the known ones or what failed); the active version is then unchanged.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matcher.store.lifecycle import Activation, VersionSummary

Emit = Callable[[Any, bool, str], None]


def _table(rows: list[VersionSummary], previous: str | None, leased: set[str]) -> str:
    if not rows:
        return "(no versions)"
    width = max(len("VERSION"), *(len(r.version) for r in rows))
    lines = [f"  {'VERSION':<{width}}  {'CREATED':<20}  {'COUNT':>7}"]
    for r in rows:
        notes = [n for n, on in (("active", r.active), ("rollback target", r.version == previous),
                                 ("leased", r.version in leased)) if on]
        count = "?" if r.count is None else str(r.count)
        lines.append(f"{'*' if r.active else ' '} {r.version:<{width}}  {r.created or '?':<20}  "
                     f"{count:>7}{'  (' + ', '.join(notes) + ')' if notes else ''}")
    return "\n".join(lines)


def cmd_index_list(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.store.leases import leased_versions
    from matcher.store.lifecycle import list_versions, require_index, rollback_target
    from matcher.store.versions import IndexStore

    store = require_index(IndexStore(args.index))
    rows = list_versions(store)
    emit([r.to_dict() for r in rows], args.json, _table(rows, rollback_target(store), set(leased_versions(store.root))))
    return 0


def cmd_index_activate(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.store.activations import cli_actor
    from matcher.store.lifecycle import activate, require_index
    from matcher.store.versions import IndexStore

    result = activate(require_index(IndexStore(args.index)), args.version, by=cli_actor())
    _report(result, args, emit)
    return 0


def cmd_index_rollback(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.store.activations import cli_actor
    from matcher.store.lifecycle import require_index, rollback
    from matcher.store.versions import IndexStore

    result = rollback(require_index(IndexStore(args.index)), args.to, by=cli_actor())
    _report(result, args, emit)
    return 0


def _report(result: Activation, args: argparse.Namespace, emit: Emit) -> None:
    text = (f"active: {result.active} (was {result.previous})" if result.changed
            else f"active: {result.active} (already active; nothing changed)")
    emit({"active": result.active}, args.json, text)


def add_index_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None], emit: Emit) -> None:
    """Add ``index list|activate|rollback`` to the ``matcher`` subcommands ``sub``."""
    p = sub.add_parser("index", help="index versions: list, activate, roll back")
    index = p.add_subparsers(dest="index_command", required=True)

    k = index.add_parser("list", help="the versions of an index, oldest first (* = active)")
    k.add_argument("--index", required=True)
    common(k)
    k.set_defaults(func=partial(cmd_index_list, emit=emit))

    k = index.add_parser("activate", help="check a version and make it the active one")
    k.add_argument("--index", required=True)
    k.add_argument("version", help="a version name from 'matcher index list'")
    common(k)
    k.set_defaults(func=partial(cmd_index_activate, emit=emit))

    k = index.add_parser("rollback", help="check and reactivate the version active before the current one")
    k.add_argument("--index", required=True)
    k.add_argument("--to", help="this version instead (default: the previous one, from activations.jsonl)")
    common(k)
    k.set_defaults(func=partial(cmd_index_rollback, emit=emit))
