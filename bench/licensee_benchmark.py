"""Benchmark: do licensee candidates put the real co-applicant company first?

    HF_HUB_OFFLINE=1 .venv/bin/python bench/licensee_benchmark.py [--json] [--examples N]

Method
------
* Corpus: ``../shared/data/kipris-plus-xml`` (read at run time, never copied), ingested and indexed with
  the default pipeline into ``/work/scratch/licbench`` (embedding cache shared with the bundle benchmark,
  so a re-run is warm), built in a child process and loaded once.
* Queries: every university patent co-applied with a company (an applicant of kind ``university`` and
  one of kind ``company``). Relevant: the company co-applicant(s) (normalised names). Leave-one-out: the
  query patent is removed from every portfolio and from the co-application counts
  (``LicenseeRanker.rank(technology_id=...)`` does this for its query), so a company is found through its
  OTHER patents and its OTHER joint applications only.
* Candidates: every company of the directory (owners, universities, institutes, hospitals and persons
  excluded).
* Measures: hit@1, hit@5, MRR@5 (reciprocal rank of the first relevant company, 0 beyond 5), on all
  queries and on the ANSWERABLE ones: a relevant company has at least one other patent in the corpus
  (when the query is its only patent, nothing in the data points to it — e.g. one-off co-applicants).
* Baselines in the same run: random order (mean over 200 seeded shuffles), most patents first, and a plain
  lexical ranking over portfolios (BM25 of the query patent's text against every portfolio patent, company
  value = its best-matching patent's score); ablations of the default ranker: portfolio only (hybrid
  best-patent score, no volume correction — what a free-text query gets, having no owner), co-application
  only, and the default without its volume correction (``volume_correction=0``).
* Since issue 10 a company is a candidate only when one of its portfolio patents reaches the calibrated
  relevance floor (topical fit). ``ungated`` is the same ranker with the floor at 0 (what was shipped
  before). Every ranker here runs with ``include_inactive=True`` so the queries and portfolios are the
  same as before (many co-applied patents have lapsed); ``default_live_only`` is the shipped default
  (lapsed/refused/withdrawn/abandoned records are neither queries nor evidence) on the live queries.
* Topical plausibility: the share of the top-3 candidates whose first portfolio evidence patent shares an
  IPC subclass (4 characters, e.g. ``H01M``) with the query patent — a check that candidates are there for
  the topic, not only for a relationship.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SCRATCH = Path("/work/scratch/licbench")
CACHE = Path("/work/scratch/bundlebench/cache.sqlite")


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "hit@1": round(sum(r == 1 for r in ranks) / n, 3),
        "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 3),
        "mrr@5": round(sum(1.0 / r for r in ranks if r is not None and r <= 5) / n, 3),
    }


def first_rank(order: list[str], relevant: set[str]) -> int | None:
    return next((i + 1 for i, key in enumerate(order) if key in relevant), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--examples", type=int, default=0, help="print this many misses to stderr")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    source = SHARED / "kipris-plus-xml"
    if not source.exists():
        raise SystemExit(f"real data absent (expected next to the repo): {source}")

    from matcher.build import build_index, load_encoders
    from matcher.ingest import ingest_paths, write_corpus
    from matcher.ingest.applicants import applicant_kind
    from matcher.licensing import CompanyDirectory, LicenseeConfig, LicenseeRanker, org_key
    from matcher.retrieval.config import resolve_pipeline
    from matcher.store import IndexStore

    SCRATCH.mkdir(parents=True, exist_ok=True)
    pipeline = resolve_pipeline()
    if args.build_only:
        write_corpus(SCRATCH / "corpus", ingest_paths([source]))
        built = build_index(SCRATCH / "corpus", SCRATCH / "index", pipeline, cache_path=CACHE, keep_versions=1)
        print(json.dumps(built.to_dict()))
        return
    child = subprocess.run([sys.executable, __file__, "--build-only"], capture_output=True, text=True)
    if child.returncode:
        raise SystemExit(f"index build failed:\n{child.stderr[-2000:]}")
    version = IndexStore(SCRATCH / "index").load(load_encoders(pipeline.encoders))
    techs = version.technologies
    directory = CompanyDirectory.build(techs, version.companies, version.demands)
    companies = directory.candidates()

    queries = []
    for t in techs:
        kinds = {a: applicant_kind(a) for a in t.applicants}
        if "university" in kinds.values() and "company" in kinds.values():
            queries.append((t, {org_key(a, "company") for a, k in kinds.items() if k == "company"}))

    default = LicenseeRanker(version, directory=directory)
    portfolio_only = LicenseeRanker(version, LicenseeConfig(w_coapplication=0.0, volume_correction=0.0),
                                    directory=directory)
    coapp_only = LicenseeRanker(version, LicenseeConfig(w_portfolio=0.0), directory=directory)
    uncorrected = LicenseeRanker(version, LicenseeConfig(volume_correction=0.0), directory=directory)
    retriever = version.retriever
    rng = random.Random(0)

    ungated = LicenseeRanker(version, directory=directory, floor=0.0)
    ranks: dict[str, list[int | None]] = {k: [] for k in (
        "random", "most_patents", "lexical_portfolio", "portfolio_only", "coapplication_only",
        "default_without_volume_correction", "ungated", "default")}
    plausible: dict[str, list[float]] = {"ungated": [], "default": [], "default_live_only": []}
    live_ranks: list[int | None] = []
    live_answerable: list[bool] = []

    def subclasses(codes: list[str] | tuple[str, ...]) -> set[str]:
        return {c.replace(" ", "")[:4].upper() for c in codes if c.strip()}

    def plausibility(found: list, query_ipc: set[str]) -> float | None:
        top = found[:3]
        if not top or not query_ipc:
            return None
        ok = 0
        for c in top:
            first = next((e for e in c.evidence if e["type"] == "portfolio"), None)
            ok += bool(first and subclasses(first.get("ipc", [])) & query_ipc)
        return ok / len(top)
    random_runs: list[list[int | None]] = [[] for _ in range(200)]
    misses = []
    times = []
    answerable = []
    for t, relevant in queries:
        pos = version.position_of(t.id)
        answerable.append(any(len([p for p in c.patents if p != pos]) > 0 for c in companies if c.key in relevant))
        owners = {org_key(i, "university") for i in t.institutions}
        cands = [c for c in companies if c.key not in owners]
        keys = [c.key for c in cands]
        for run in random_runs:
            shuffled = keys[:]
            rng.shuffle(shuffled)
            run.append(first_rank(shuffled, relevant))
        volume = sorted(cands, key=lambda c: (-len([p for p in c.patents if p != pos]), c.key))
        ranks["most_patents"].append(first_rank([c.key for c in volume], relevant))
        lexical = retriever.lexical_scores(t.text)
        values = []
        for c in cands:
            s = [float(lexical[p]) for p in c.patents if p != pos] if lexical is not None else []
            values.append((-max(s) if s else 0.0, c.key))
        ranks["lexical_portfolio"].append(first_rank([k for _, k in sorted(values)], relevant))
        for name, ranker in (("portfolio_only", portfolio_only), ("coapplication_only", coapp_only),
                             ("default_without_volume_correction", uncorrected), ("ungated", ungated)):
            got = list(ranker.rank(technology_id=t.id, top_k=len(cands), include_inactive=True))
            ranks[name].append(first_rank([c.org.key for c in got], relevant))
            if name == "ungated":
                plausible["ungated"].append(plausibility(got, subclasses(t.ipc)))
        t0 = time.perf_counter()
        found = list(default.rank(technology_id=t.id, top_k=len(cands), include_inactive=True))
        times.append(time.perf_counter() - t0)
        plausible["default"].append(plausibility(found, subclasses(t.ipc)))
        if t.active:
            live = list(default.rank(technology_id=t.id, top_k=len(cands)))
            live_ranks.append(first_rank([c.org.key for c in live], relevant))
            live_answerable.append(any(
                any(p != pos and techs[p].active for p in c.patents) for c in companies if c.key in relevant))
            plausible["default_live_only"].append(plausibility(live, subclasses(t.ipc)))
        order = [c.org.key for c in found]
        r = first_rank(order, relevant)
        ranks["default"].append(r)
        if r != 1 and len(misses) < args.examples:
            misses.append({"id": t.id, "title": t.title, "applicants": list(t.applicants), "rank": r,
                           "top": [(c.org.name, round(c.score, 3), {k: round(v, 2) for k, v in c.signals.items()})
                                   for c in found[:3]]})
    def subset(values: list[int | None]) -> list[int | None]:
        return [r for r, ok in zip(values, answerable, strict=True) if ok]

    results, results_answerable = {}, {}
    for name, keep in ((results, lambda v: v), (results_answerable, subset)):
        name.update({k: metrics(keep(v)) for k, v in ranks.items() if k != "random"})
        runs = [metrics(keep(run)) for run in random_runs]
        name["random"] = {m: round(float(np.mean([r[m] for r in runs])), 3) for m in ("hit@1", "hit@5", "mrr@5")}
    for m in misses:
        print(json.dumps(m, ensure_ascii=False), file=sys.stderr)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "corpus_size": len(techs),
        "companies": len(companies),
        "queries": len(queries),
        "answerable_queries": sum(answerable),
        "mean_s_per_query": round(float(np.mean(times)), 3),
        "merges": directory.merges(),
        "results": results,
        "results_answerable": results_answerable,
        "live_only": {"queries": len(live_ranks), "answerable": sum(live_answerable), "all": metrics(live_ranks),
                      "answerable_results": metrics([r for r, ok in zip(live_ranks, live_answerable, strict=True)
                                                     if ok])},
        "topical_plausibility_top3": {
            k: {"mean": round(float(np.mean([x for x in v if x is not None])), 3),
                "queries": sum(x is not None for x in v)} for k, v in plausible.items() if v},
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    print(f"{report['date']} · {report['machine']} · corpus {len(techs)} · companies {len(companies)} · "
          f"queries {len(queries)} · {report['mean_s_per_query']} s/query")
    print(f"{'ranking':22} {'hit@1':>7} {'hit@5':>7} {'mrr@5':>7}   answerable ({sum(answerable)}):"
          f" {'hit@1':>7} {'hit@5':>7} {'mrr@5':>7}")
    for name in ("random", "most_patents", "lexical_portfolio", "portfolio_only", "coapplication_only",
                 "default_without_volume_correction", "ungated", "default"):
        r, a = results[name], results_answerable[name]
        print(f"{name:22} {r['hit@1']:7.3f} {r['hit@5']:7.3f} {r['mrr@5']:7.3f}   {'':16}"
              f"{a['hit@1']:7.3f} {a['hit@5']:7.3f} {a['mrr@5']:7.3f}")
    print(f"live only (default policy): {report['live_only']}")
    print(f"topical plausibility of the top 3: {report['topical_plausibility_top3']}")
    print("merges:")
    for m in report["merges"]:
        print(f"  {m['name']} ← {m['aliases']}")


if __name__ == "__main__":
    main()
