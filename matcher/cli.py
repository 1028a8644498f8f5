"""The ``matcher`` command: thin subcommands over library calls.

This module holds the library's subcommands; ``serve`` is added by ``service.cli`` (the installed
``matcher`` command, ``python -m service.cli``), so the library never imports the service.

Exit status 0 on success; 2 with a one-line reason (naming the file) on a domain error; 130 when
interrupted. ``--json`` prints machine-readable output on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, get_args

from matcher.cli_demands import add_demand_commands
from matcher.cli_index import add_index_commands
from matcher.cli_meetings import add_meetings_commands
from matcher.cli_nightly import add_nightly_commands
from matcher.errors import ConfigError, MatcherError
from matcher.keys import DEFAULT_KEYS_FILE, KeyStore, keys_file_from_env
from matcher.settings import IndexBackend, Settings, settings_from_env

_KEYS_FILE_HELP = (f"keys file (env MATCHER_KEYS_FILE, default {DEFAULT_KEYS_FILE}): keys kept there before are imported once; "
                   "the keys live in the state database, state.sqlite beside it unless MATCHER_DATABASE_URL is set")
KEYS_FILE_HELP = _KEYS_FILE_HELP  # the same words for ``serve --keys-file`` (service.cli)

#: adds subcommands to the parser (``service.cli`` adds ``serve``: the library never imports the service)
AddCommands = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _emit(data: Any, as_json: bool, text: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def _settings(args: argparse.Namespace) -> Settings:
    """The settings (``MATCHER_*``), the command's flags winning."""
    return settings_from_env(
        encoder=getattr(args, "encoder", None),
        index_backend=getattr(args, "backend", None),
        cache=getattr(args, "cache", None),
        keep_versions=getattr(args, "keep", None),
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    from matcher.ingest import ingest_paths, write_corpus

    result = ingest_paths([Path(p) for p in args.paths], spec=args.spec, progress=not args.quiet)
    write_corpus(Path(args.out), result)
    report = result.report.to_dict()
    counts = {k: report[k] for k in ("read", "ingested", "duplicates", "rejected")}
    summary = {**counts, "out": str(args.out), "companies": len(result.companies),
               "institutions": len(result.institutions), "demands": len(result.demands)}
    lines = [f"{k}: {v}" for k, v in summary.items()]
    for entry in report.get("rejects", [])[:10]:
        lines.append(f"  rejected {entry['file']}:{entry['row']} [{entry['field']}] {entry['reason']}")
    if len(report.get("rejects", [])) > 10:
        lines.append(f"  ... {len(report['rejects']) - 10} more in {Path(args.out) / 'report.json'}")
    _emit(summary, args.json, "\n".join(lines))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from matcher.build import build_index
    from matcher.ingest import read_corpus
    from matcher.retrieval.config import resolve_pipeline
    from matcher.runners import configured_runner

    settings = _settings(args)
    corpus = read_corpus(Path(args.corpus))  # bad input is reported before a model is loaded
    pipeline = resolve_pipeline(args.pipeline or settings.pipeline, settings.encoder)
    with configured_runner(args.runner) as runner:  # an unknown runner or Ray missing: before a model loads
        result = build_index(
            corpus, Path(args.index), pipeline,
            backend=settings.index_backend, cache_path=settings.cache, progress=not args.quiet,
            source=str(Path(args.corpus).resolve()),
            keep_versions=settings.keep_versions, activate=not args.no_activate, runner=runner,
        )
    data = result.to_dict()
    _emit(data, args.json, "\n".join(f"{k}: {v}" for k, v in data.items()))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from matcher.search import Searcher, check_query, open_index

    check_query(args.query, args.top_k)  # before a model loads
    version = open_index(args.index, _settings(args).encoder)
    hits = Searcher(version).search(args.query, args.top_k)
    rows = [h.to_dict() for h in hits]
    text = "\n".join(f"{r['rank']:>3}. {r['score']:.3f}  {r['id']}  {r['title']}  [{r['institution']}]" for r in rows)
    _emit(rows, args.json, text or "(no results)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from matcher.encoders.cache import EmbeddingCache
    from matcher.evaluation.beir import load_beir
    from matcher.evaluation.harness import default_cache_path, run_pipeline
    from matcher.evaluation.trec import write_run
    from matcher.retrieval.config import resolve_pipeline

    if args.pairs:
        return _eval_pairs(args)
    if not args.beir:
        raise ConfigError("give --beir DIR (a BEIR-layout dataset) or --pairs FILE (phrase pairs)")
    dataset = load_beir(args.beir, args.split)
    names = args.pipeline or [None]
    configs = [resolve_pipeline(n) for n in names]
    cache = EmbeddingCache(args.cache or default_cache_path())
    results = []
    for config in configs:
        result = run_pipeline(dataset, config, cache, progress=not args.quiet, backend=args.index_backend,
                              sample_size=args.stats_sample)
        results.append(result)
        if args.run:
            path = Path(args.run)
            if len(configs) > 1:
                path = path.with_name(f"{path.stem}.{config.name}{path.suffix}")
            write_run(path, result.run, tag=config.name)
    first = results[0].to_dict()
    data = {**first, "dataset": str(args.beir), "split": args.split, "index_backend": args.index_backend,
            "stats_sample": args.stats_sample}
    if len(results) > 1:
        data["pipelines"] = {r.pipeline: r.to_dict() for r in results}
    lines = [f"{'pipeline':<14} {'ndcg@10':>8} {'recall@10':>9} {'recall@100':>10} {'mrr@10':>7} {'s':>6}"]
    for r in results:
        m = r.metrics
        lines.append(f"{r.pipeline:<14} {m['ndcg@10']:>8.4f} {m['recall@10']:>9.4f} {m['recall@100']:>10.4f} "
                     f"{m['mrr@10']:>7.4f} {r.seconds:>6.1f}")
    _emit(data, args.json, "\n".join(lines))
    return 0


def _eval_pairs(args: argparse.Namespace) -> int:
    from matcher.encoders import load_encoder
    from matcher.encoders.cache import CachedEncoder, EmbeddingCache
    from matcher.evaluation.harness import default_cache_path
    from matcher.evaluation.pairs import load_pairs, pearson_of

    pairs = load_pairs(args.pairs)
    cache = EmbeddingCache(args.cache or default_cache_path())
    names = args.encoder or ["minilm", "use-m3"]
    data = {"pairs": len(pairs), "pearson": {n: round(pearson_of(CachedEncoder(load_encoder(n), cache), pairs), 4)
                                             for n in names}}
    _emit(data, args.json, "\n".join(f"{n:<10} pearson {v:.4f}" for n, v in data["pearson"].items()))
    return 0


def _demand_and_matcher(args: argparse.Namespace, top_k: int) -> tuple[Any, Any]:
    """The demand (checked before any model loads) and a matcher over the current index version."""
    from matcher.matching.demand import DemandMatcher, filter_predicate, load_demand
    from matcher.search import check_demand_texts, check_query, open_index

    demand = load_demand(args.demand)
    check_demand_texts(demand.text, demand.requirements)
    filter_predicate(dict(demand.filters))  # bad filters are reported before a model loads
    check_query(demand.query_text, top_k)
    return demand, DemandMatcher(open_index(args.index, _settings(args).encoder))


def _status(row: dict[str, Any]) -> str:
    status = row.get("legal_status") or "status unknown"
    return status if row.get("active", True) else f"{status}, inactive"


def cmd_match(args: argparse.Namespace) -> int:
    demand, matcher = _demand_and_matcher(args, args.top_k)
    result = matcher.match(demand, args.top_k, include_inactive=args.include_inactive,
                           min_relevance=args.min_relevance).to_dict()
    lines = ["requirements: " + " | ".join(f"[{i}] {r}" for i, r in enumerate(result["requirements"]))]
    for n, m in enumerate(result["matches"], 1):
        lines.append(f"{n:>3}. {m['relevance']:.2f}  {m['id']}  {m['title']}  [{', '.join(m['institutions'])}; "
                     f"{_status(m)}; filed {m['application_date'] or '?'}; TRL {m['trl'] or '?'}]  covers {m['covers']}")
        lines.append(f"       {m['evidence']['best_sentence'][:160]}")
    if result["no_good_match"]:
        lines.append(result["message"])
    _emit(result, args.json, "\n".join(lines))
    return 0


def cmd_bundles(args: argparse.Namespace) -> int:
    demand, matcher = _demand_and_matcher(args, 10)
    result = matcher.bundles(demand, top_n=args.top_n, include_inactive=args.include_inactive).to_dict()
    lines = ["requirements: " + " | ".join(f"[{i}] {r}" for i, r in enumerate(result["requirements"])),
             f"{result['verdict']}: {result['message']}"]
    for n, b in enumerate(result["bundles"], 1):
        lines.append(f"{n}. [{b['kind']}] {b['relevance']:.2f}  {' + '.join(b['members'])}  "
                     f"[{', '.join(b['institutions'])}]  gaps {b['gaps']}")
        for row in b["coverage"]:
            who = ", ".join(row["members"]) or "— gap"
            lines.append(f"     [{row['requirement']}] {row['text'][:60]}: {who} ({row['relevance']:.2f})")
    _emit(result, args.json, "\n".join(lines))
    return 0


def cmd_licensees(args: argparse.Namespace) -> int:
    from matcher.licensing import LicenseeRanker
    from matcher.search import check_query, check_query_text, open_index

    members = [m.strip() for m in args.members.split(",") if m.strip()] if args.members else None
    if args.text is not None:
        check_query_text(args.text, "text")
        check_query(args.text, args.top_k)
    ranker = LicenseeRanker(open_index(args.index, _settings(args).encoder))
    found = ranker.rank(technology_id=args.technology, text=args.text, members=members, top_k=args.top_k,
                        include_institutions=args.include_institutions,
                        include_inactive=args.include_inactive).to_dict()
    lines = []
    for n, c in enumerate(found["candidates"], 1):
        signals = ", ".join(f"{k} {v:+.2f}" for k, v in c["signals"].items() if v)
        lines.append(f"{n:>3}. {c['relevance']:.2f}  {c['company']}  ({c['portfolio_size']} patents)  {signals}")
        for e in c["evidence"][:4]:
            what = e.get("title") or e.get("text") or e.get("detail") or ""
            value = e.get("relevance", e.get("similarity"))
            shown = f" {value:.2f}" if isinstance(value, float) else ""
            lines.append(f"       {e['type']}{shown}: {what[:120]}")
    _emit(found, args.json, "\n".join(lines) or found["message"])
    return 0


def cmd_groups(args: argparse.Namespace) -> int:
    from matcher.groups import load_groups
    from matcher.store import IndexStore

    store = IndexStore(args.index)
    path = store.current_path() / "groups.json"
    if not path.is_file():
        raise ConfigError(f"{store.current_path()}: this index version has no groups "
                          f"({store.read_manifest().get('groups', {}).get('reason', 'rebuild it')})")
    groups = load_groups(path)
    rows = [{k: v for k, v in g.to_dict().items() if k != "centroid"} for g in groups]
    text = "\n".join(f"{r['id']}  {'*' if r['convergence'] else ' '} {r['size']:>4}  {r['label']}  "
                     f"[{', '.join(r['institutions'][:4])}{' …' if len(r['institutions']) > 4 else ''}]" for r in rows)
    _emit(rows, args.json, text)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from matcher.store import IndexStore

    store = IndexStore(args.index)
    manifest = store.read_manifest()
    manifest = {**manifest, "versions": store.versions()}
    _emit(manifest, args.json, json.dumps(manifest, ensure_ascii=False, indent=2))
    return 0


def cmd_encoders(args: argparse.Namespace) -> int:
    from matcher.encoders import load_registry

    registry = load_registry()
    rows = [
        {"name": e.name, "backend": e.backend, "model": e.model, "dimension": e.dimension,
         "languages": list(e.languages), "default": e.name == registry.default, "description": e.description}
        for e in registry.entries.values()
    ]
    text = "\n".join(f"{'*' if r['default'] else ' '} {r['name']:<10} {r['backend']:<22} {r['description']}" for r in rows)
    _emit(rows, args.json, text)
    return 0


_DATABASE_URL_HELP = ("the state database (env MATCHER_DATABASE_URL): sqlite:///PATH or postgresql://USER@HOST/DB; "
                      "default: sqlite state.sqlite beside the keys file")


def _keys_file(args: argparse.Namespace) -> Path:
    """``--keys-file``, else ``MATCHER_KEYS_FILE``, else ``DEFAULT_KEYS_FILE`` (the service's default too)."""
    return keys_file_from_env(args.keys_file)


def cmd_keys_create(args: argparse.Namespace) -> int:
    store = _key_store(args)
    institution = args.institution
    if institution is not None:
        institution = _resolve_institution(institution, args.index)
    key, record = store.create(args.role, institution, expires=args.expires, label=args.label)
    data = {**record, "key": key, "database": store.location}
    bound = f" bound to {record['institution']}" if record["institution"] else ""
    until = f", expires {record['expires']}" if record["expires"] else ""
    _emit(data, args.json, f"{record['role']} key {record['id']}{bound}{until} (shown once, stored hashed in "
                           f"{store.location}):\n{key}")
    return 0


def _key_store(args: argparse.Namespace) -> KeyStore:
    """The keys of ``--database-url`` / ``MATCHER_DATABASE_URL``, else of ``state.sqlite`` beside the keys file."""
    from matcher.state.url import database_url_from_env

    keys_file = _keys_file(args)
    return KeyStore(keys_file, database_url_from_env(getattr(args, "database_url", None), keys_file))


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    """Exit 0 when the key is revoked (now or before), 2 for an unknown id (the known ones listed)."""
    store = _key_store(args)
    before = store.get(args.key_id)
    record = store.revoke(args.key_id)
    when = "already revoked at" if before["revoked"] else "revoked at"
    _emit(record, args.json, f"{record['id']} ({record['role']}{', ' + record['institution'] if record['institution'] else ''}) "
                             f"{when} {record['revoked']}; a running service refuses it within a second")
    return 0


def _resolve_institution(name: str, index: str | Path | None) -> str:
    """The canonical name of ``name`` among the index's institutions (aliases, spacing, English names), or an
    error listing the known ones."""
    from matcher.store.versions import IndexStore

    index = index or settings_from_env().index
    if not index:
        raise ConfigError("give --index DIR (or set MATCHER_INDEX) so the institution can be checked against it")
    return IndexStore(index).registry().resolve(name)


def cmd_keys_list(args: argparse.Namespace) -> int:
    rows = _key_store(args).listing()
    text = "\n".join(f"{r['id']}  {r['role']:<8} {r['status']:<8} {r.get('institution') or '-'}  created {r['created']}"
                     f"  expires {r['expires'] or 'never'}  last used {r['last_used'] or 'never'}" for r in rows)
    _emit(rows, args.json, text or "(no keys)")
    return 0


def build_parser(*commands: AddCommands) -> argparse.ArgumentParser:
    """The ``matcher`` parser: the library's subcommands, plus those each of ``commands`` adds."""
    parser = argparse.ArgumentParser(prog="matcher", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, *, encoder: bool = False) -> None:
        p.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
        p.add_argument("--quiet", action="store_true", help="no progress bars")
        if encoder:
            p.add_argument("--encoder", help="registry name, model directory or model name (env MATCHER_ENCODER); "
                           "for build: a dense-only pipeline with this encoder")

    p = sub.add_parser("ingest", help="read institution exports into a corpus directory")
    p.add_argument("paths", nargs="+", help="files or directories (KIPRIS XML, KIPRIS CSV, CSV/JSONL/XLSX)")
    p.add_argument("--out", required=True, help="corpus directory to write")
    p.add_argument("--spec", type=Path, help="TOML source spec (column mapping)")
    common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("build", help="embed a corpus and publish a new index version")
    p.add_argument("--corpus", required=True)
    p.add_argument("--index", required=True)
    p.add_argument("--backend", help="exact | flat | hnsw | ivf | auto (env MATCHER_INDEX_BACKEND)")
    p.add_argument("--cache", type=Path, help="embedding cache file (default INDEX/embeddings.sqlite)")
    p.add_argument("--pipeline", help="retrieval pipeline from models/pipelines.toml (env MATCHER_PIPELINE)")
    p.add_argument("--keep", type=int, help="versions to keep (env MATCHER_KEEP_VERSIONS, default 3); the active, "
                   "the rollback target and leased versions are kept as well")
    p.add_argument("--no-activate", action="store_true",
                   help="stage and check the new version only; activate it later with 'matcher index activate'")
    p.add_argument("--runner", help="where the texts the embedding cache does not hold are embedded: local | ray "
                   "(a Ray cluster: MATCHER_RAY_ADDRESS or RAY_ADDRESS, else a local one; deploy/ray/README.md) "
                   "(env MATCHER_RUNNER, default local)")
    common(p, encoder=True)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("search", help="search the current index version")
    p.add_argument("--index", required=True)
    p.add_argument("query")
    p.add_argument("--top-k", type=int, default=10)
    common(p, encoder=True)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", help="evaluate pipelines on a BEIR-layout dataset")
    p.add_argument("--beir", help="directory with corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    p.add_argument("--pairs", help="phrase-pair CSV (anchor,target,context,score): Pearson of each encoder")
    p.add_argument("--encoder", action="append", help="with --pairs: encoders to score (repeat)")
    p.add_argument("--split", default="test")
    p.add_argument("--pipeline", action="append", help="pipeline name (repeat to compare); default: the configured default")
    p.add_argument("--run", help="write the ranking (top 100 per query) as a TREC run file")
    p.add_argument("--cache", type=Path, help="embedding cache (default ~/.cache/matcher/embeddings.sqlite or MATCHER_CACHE)")
    p.add_argument("--index-backend", default="auto", choices=get_args(IndexBackend),
                   help="the dense channels' vector index (default auto: exact below the size limit); "
                   "hnsw or ivf evaluate approximate search with sampled normalisation statistics")
    p.add_argument("--stats-sample", type=int, default=2048, metavar="N",
                   help="documents an approximate channel samples for its statistics (default 2048; all of them "
                   "when fewer: give a smaller N to test the sampled path on a small dev set)")
    common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("match", help="match a demand (JSON file or text) to technologies, with evidence")
    p.add_argument("--index", required=True)
    p.add_argument("--demand", required=True, help='a JSON file {"text", "requirements", "filters"} or plain text')
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--min-relevance", type=float, help="leave out matches below this relevance (default: the floor)")
    p.add_argument("--include-inactive", action="store_true",
                   help="also propose lapsed, refused, withdrawn and abandoned records")
    common(p, encoder=True)
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("bundles", help="convergence bundles of technologies from several institutions")
    p.add_argument("--index", required=True)
    p.add_argument("--demand", required=True, help='a JSON file {"text", "requirements", "filters"} or plain text')
    p.add_argument("--top-n", type=int, default=5)
    p.add_argument("--include-inactive", action="store_true",
                   help="also propose lapsed, refused, withdrawn and abandoned records")
    common(p, encoder=True)
    p.set_defaults(func=cmd_bundles)

    p = sub.add_parser("licensees", help="licensee candidates (companies) for a technology, a bundle or a text")
    p.add_argument("--index", required=True)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--technology", help="technology id")
    what.add_argument("--text", help="free text of a technology or need")
    what.add_argument("--members", help="a bundle: comma-separated technology ids")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--include-institutions", action="store_true",
                   help="also propose universities, institutes, hospitals and public bodies")
    p.add_argument("--include-inactive", action="store_true",
                   help="allow a lapsed/refused/withdrawn/abandoned technology and such portfolio evidence")
    common(p, encoder=True)
    p.set_defaults(func=cmd_licensees)

    p = sub.add_parser("groups", help="convergence patent groups (특허군) of the current index version")
    p.add_argument("--index", required=True)
    common(p)
    p.set_defaults(func=cmd_groups)

    p = sub.add_parser("info", help="print the current index version's manifest")
    p.add_argument("--index", required=True)
    common(p)
    p.set_defaults(func=cmd_info)

    add_index_commands(sub, common, _emit)
    add_demand_commands(sub, common, _emit)
    add_nightly_commands(sub, common, _emit)
    add_meetings_commands(sub, common, _emit)

    p = sub.add_parser("encoders", help="list the registered encoders")
    common(p)
    p.set_defaults(func=cmd_encoders)

    for add in commands:
        add(sub)

    p = sub.add_parser("keys", help="manage API keys of the service")
    keys = p.add_subparsers(dest="keys_command", required=True)
    k = keys.add_parser("create", help="create an API key (printed once; stored hashed)")
    k.add_argument("--role", required=True, help="officer (read), organiser (read, plan and publish meetings) "
                   "or admin (also reload and key management)")
    k.add_argument("--institution", help="bind the key to this institution (sees its confidential technologies); "
                   "any spelling or alias, resolved against --index to the canonical name")
    k.add_argument("--index", help="the index whose institutions --institution is checked against "
                   "(env MATCHER_INDEX)")
    k.add_argument("--keys-file", type=Path, help=_KEYS_FILE_HELP)
    k.add_argument("--expires", help="when the key stops working: a date (2027-01-31, 00:00 UTC), a time "
                   "(2027-01-31T18:00:00+09:00) or a duration from now (90m, 12h, 30d, 2w); default: never")
    k.add_argument("--label", help="a note for people: whose key, what for (shown by `matcher keys list`)")
    k.add_argument("--database-url", help=_DATABASE_URL_HELP)
    common(k)
    k.set_defaults(func=cmd_keys_create)
    k = keys.add_parser("list", help="list API keys (without secrets)")
    k.add_argument("--keys-file", type=Path, help=_KEYS_FILE_HELP)
    k.add_argument("--database-url", help=_DATABASE_URL_HELP)
    common(k)
    k.set_defaults(func=cmd_keys_list)
    k = keys.add_parser("revoke", help="revoke an API key (a running service refuses it within a second)")
    k.add_argument("key_id", help="the key's id, as `matcher keys list` shows it (key_…)")
    k.add_argument("--keys-file", type=Path, help=_KEYS_FILE_HELP)
    k.add_argument("--database-url", help=_DATABASE_URL_HELP)
    common(k)
    k.set_defaults(func=cmd_keys_revoke)
    return parser


def _debug() -> bool:
    """``MATCHER_DEBUG``: internal errors with their traceback (``False`` when the settings do not read)."""
    try:
        return settings_from_env().debug
    except MatcherError:
        return False


def main(argv: Sequence[str] | None = None, *, commands: Sequence[AddCommands] = ()) -> int:
    """Run ``matcher ARGV`` with the library's subcommands plus ``commands`` (``service.cli`` adds ``serve``)."""
    parser = build_parser(*commands)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except MatcherError as exc:
        sys.stderr.write(f"matcher {args.command}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"matcher {args.command}: interrupted\n")
        return 130
    except Exception as exc:  # a last line of defence: one line, not a traceback
        if _debug():
            raise
        sys.stderr.write(
            f"matcher {args.command}: internal error: {type(exc).__name__}: {exc} (set MATCHER_DEBUG=1 for details)\n"
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
