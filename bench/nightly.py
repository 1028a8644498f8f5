"""Benchmark: a nightly run with 1 % of records changed against a full build, side by side in one run.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/nightly.py [--n 100000] [--share 0.01] [--work DIR] [--json]

Method: ``bench/synth.py`` writes ``n`` deterministic synthetic records (timing only, never quality);
run 1 is ``matcher nightly`` on an empty index directory (a full build: every text tokenized and embedded,
cold embedding cache); then ``share`` of the records is changed (half abstracts, half legal statuses) and run
2 is ``matcher nightly`` again (incremental: only changed texts embedded); run 3 repeats run 2 unchanged
(expected status ``unchanged``, nothing embedded). Each run is a child process (``python -m service.cli
nightly --config ... --json``) timed by wall clock, its peak RSS read from ``os.wait4``. The default
pipeline and encoders are the shipped ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from synth import perturb, records, write  # noqa: E402


def run_nightly(config: Path, name: str) -> dict[str, object]:
    """One ``matcher nightly`` child: its JSON report plus wall seconds and peak RSS (MB); its JSON log lines
    (one per stage, with times) go to ``WORK/<name>.log``."""
    t0 = time.perf_counter()
    with (config.parent / f"{name}.log").open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "nightly", "--config", str(config), "--json"],
                                stdout=subprocess.PIPE, stderr=log, text=True,
                                env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=REPO)
        assert proc.stdout is not None
        out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    report = json.loads(out) if out.strip() else {"status": "no output"}
    report.update({"exit": os.waitstatus_to_exitcode(status), "wall_s": round(wall, 1),
                   "peak_rss_mb": round(usage.ru_maxrss / 1024)})
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/work/scratch/nightlybench"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    rows = records(args.n, args.seed)
    spec = write(rows, args.work / "source")
    config = args.work / "nightly.toml"
    config.write_text(f'index = "index"\n[[sources]]\npath = "source/technologies.csv"\nspec = "{spec}"\n'
                      f'[gate]\nmax_drop = 0.5\n', encoding="utf-8")
    full = run_nightly(config, "full")
    changed = perturb(rows, args.share, seed=args.seed + 1)
    write(rows, args.work / "source")
    incremental = run_nightly(config, "incremental")
    unchanged = run_nightly(config, "unchanged")
    ratio = round(float(incremental["wall_s"]) / max(float(full["wall_s"]), 1e-9), 3)
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "records": args.n, "changed": len(changed), "full": full, "incremental": incremental,
              "unchanged": unchanged, "incremental_over_full": ratio}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    print(f"{result['date']} · {result['machine']} · {args.n} records, {len(changed)} changed")
    for name in ("full", "incremental", "unchanged"):
        r = result[name]
        print(f"{name:12} status {r.get('status')!s:10} exit {r['exit']}  {r['wall_s']:8.1f} s  "
              f"embedded {r.get('embedded')!s:>8}  peak RSS {r['peak_rss_mb']} MB")
    print(f"incremental / full wall time: {ratio}")


if __name__ == "__main__":
    main()
