"""``matcher demands save | list | delete`` and ``matcher alerts``: saved demands and their alerts from the
command line, over a job config (``matcher/jobs/config.py``: its ``index`` and ``[state] database_url``).

Registered on the ``matcher`` parser by :func:`add_demand_commands`. An institution is resolved against
the config's index (any spelling or alias → the canonical name; an unknown one exits 2 listing the known).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matcher.jobs.config import NightlyConfig
    from matcher.state.store import StateStore

Emit = Callable[[Any, bool, str], None]


def _open(args: argparse.Namespace) -> tuple[NightlyConfig, StateStore]:
    from matcher.jobs.alert_hooks import state_store
    from matcher.jobs.config import load_config

    config = load_config(args.config)
    return config, state_store(config)


def cmd_demands_save(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.matching.demand import filter_predicate, load_demand
    from matcher.records import DemandProfile
    from matcher.search import check_demand_texts
    from matcher.state import demands
    from matcher.store.versions import IndexStore

    demand = load_demand(args.demand) if args.demand is not None else DemandProfile(text=args.text)
    check_demand_texts(demand.text, demand.requirements)
    config, state = _open(args)
    registry = IndexStore(config.index_dir).registry()
    filter_predicate(dict(demand.filters), registry)  # bad filters (and unknown institutions) refused now
    institution = registry.resolve(args.institution) if args.institution is not None else None
    row = demands.save(state, text=demand.text, requirements=list(demand.requirements),
                       filters=dict(demand.filters), owner=args.owner, institution=institution)
    state.close()
    emit(row, args.json, f"saved demand {row['id']}: {row['title']}"
                         f"{' (' + institution + ')' if institution else ''}")
    return 0


def cmd_demands_list(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.state import demands

    _, state = _open(args)
    rows = demands.listing(state, every=True)
    state.close()
    text = "\n".join(f"{r['id']:>5}  {r['created']}  {r['owner'] or '-'}  [{r['institution'] or 'no institution'}]"
                     f"  {r['title']}" for r in rows)
    emit(rows, args.json, text or "(no saved demands)")
    return 0


def cmd_demands_delete(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.state import demands

    _, state = _open(args)
    row = demands.delete_demand(state, args.demand_id, every=True)
    state.close()
    emit(row, args.json, f"deleted saved demand {row['id']} and its alerts: {row['title']}")
    return 0


def cmd_alerts(args: argparse.Namespace, emit: Emit) -> int:
    from matcher.state import alerts

    _, state = _open(args)
    rows = alerts.listing(state, every=True, since=args.since, kind="admin" if args.admin else "demand")
    state.close()
    if args.admin:
        text = "\n".join(f"{r['created']}  {r['version'] or '-'}  {r['message']}" for r in rows)
    else:
        text = "\n".join(f"{r['created']}  {r['version']}  demand {r['demand']}  {r['score']:.2f}  {r['technology']}  "
                         f"{(r['evidence'] or {}).get('title', '')}" for r in rows)
    emit(rows, args.json, text or "(no alerts)")
    return 0


def add_demand_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None], emit: Emit) -> None:
    """Add ``demands save|list|delete`` and ``alerts`` to the ``matcher`` subcommands ``sub``."""
    config_help = "the job config (TOML: index, [state] database_url, [alerts]; see matcher/jobs/config.py)"
    p = sub.add_parser("demands", help="saved demands: re-matched on every new index version, alerting new matches")
    demands = p.add_subparsers(dest="demands_command", required=True)

    k = demands.add_parser("save", help="save a demand (text, or a JSON file {text, requirements, filters})")
    k.add_argument("--config", required=True, help=config_help)
    what = k.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="the demand in free text")
    what.add_argument("--demand", help='a JSON file {"text", "requirements", "filters"}')
    k.add_argument("--owner", help="who gets its alerts (a name, or an e-mail address to mail the digest to)")
    k.add_argument("--institution", help="match it as this institution (sees its confidential records); any "
                   "spelling or alias, resolved against the config's index; default: public records only")
    common(k)
    k.set_defaults(func=partial(cmd_demands_save, emit=emit))

    k = demands.add_parser("list", help="every saved demand, oldest first")
    k.add_argument("--config", required=True, help=config_help)
    common(k)
    k.set_defaults(func=partial(cmd_demands_list, emit=emit))

    k = demands.add_parser("delete", help="delete a saved demand and its alerts")
    k.add_argument("demand_id", type=int, help="the demand's id, as `matcher demands list` shows it")
    k.add_argument("--config", required=True, help=config_help)
    common(k)
    k.set_defaults(func=partial(cmd_demands_delete, emit=emit))

    p = sub.add_parser("alerts", help="alerts of saved demands (newest first), or admin alerts (refused runs)")
    p.add_argument("--config", required=True, help=config_help)
    p.add_argument("--since", help="only alerts of index versions after this one (names sort in time)")
    p.add_argument("--admin", action="store_true", help="admin alerts (refused nightly runs) instead")
    common(p)
    p.set_defaults(func=partial(cmd_alerts, emit=emit))
