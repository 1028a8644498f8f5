"""Benchmark: are the target patents of a composite demand near the top of the MATCH list?

    HF_HUB_OFFLINE=1 .venv/bin/python bench/match_ranking.py [--n 60] [--json]

Uses the index and the composite demands of ``bench/bundle_recovery.py`` (run that first: it builds the
index under ``/work/scratch/bundlebench``). Form A: the targets' titles as explicit requirements (seed 0);
form B: one free mixed-language sentence (seed 1). For each ``facet_weight`` (0 = rank by the whole-demand
score only; 0.5 = the default blend with the best single-requirement score) it reports the share of target
patents in the top 5 and top 10 of ``DemandMatcher.match`` and the share of demands with every target in
the top 5.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bundle_recovery as br  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60, help="demands per form (default 60)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (br.SCRATCH / "index").exists():
        raise SystemExit(f"no index at {br.SCRATCH / 'index'}: run bench/bundle_recovery.py first")

    from matcher.build import load_encoders
    from matcher.matching.demand import FACET_WEIGHT, DemandMatcher
    from matcher.records import DemandProfile
    from matcher.retrieval.config import resolve_pipeline
    from matcher.store import IndexStore

    version = IndexStore(br.SCRATCH / "index").load(load_encoders(resolve_pipeline().encoders))
    groups: dict[str, list] = defaultdict(list)
    for t in version.technologies:
        if t.institutions and t.active:  # only live records are proposed (issue 10)
            groups[t.institutions[0]].append(t)
    report: dict[str, dict] = {}
    for fw in sorted({0.0, FACET_WEIGHT}):
        matcher = DemandMatcher(version, facet_weight=fw)
        for form in ("A", "B"):
            rng = random.Random(0 if form == "A" else 1)
            in5 = in10 = total = all5 = 0
            for _ in range(args.n):
                members = br.sample(groups, rng, need_en=form == "B")
                if form == "A":
                    demand = DemandProfile(requirements=tuple(t.title for t in members))
                else:
                    en = rng.choice([i for i, t in enumerate(members) if t.title_en.strip()])
                    names = [t.title_en if i == en else t.title for i, t in enumerate(members)]
                    demand = DemandProfile(text=br.free_text(names))
                _, matches = matcher.match(demand, 10, min_relevance=0.0)
                ids = [m.technology.id for m in matches]
                targets = {t.id for t in members}
                in5 += len(targets & set(ids[:5]))
                in10 += len(targets & set(ids))
                total += len(targets)
                all5 += targets <= set(ids[:5])
            report[f"facet_weight={fw} form {form}"] = {
                "targets_in_top5": round(in5 / total, 3), "targets_in_top10": round(in10 / total, 3),
                "all_in_top5": round(all5 / args.n, 3)}
    out = {"date": time.strftime("%Y-%m-%d"), "n": args.n, "results": report}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    for name, r in report.items():
        print(f"{name:24} {r}")


if __name__ == "__main__":
    main()
