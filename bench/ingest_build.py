"""Benchmark: ingest the real KIPRIS data in ../shared/data, build an index cold and warm, search.

    .venv/bin/python bench/ingest_build.py [--pipeline NAME] [--json]

Reports rows/s for ingestion, texts/s for cold embedding, seconds for a warm (cached) rebuild and
the median search latency. Numbers go into bench/README.md with date and machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from matcher.build import build_index, load_encoders
from matcher.ingest import ingest_paths, write_corpus
from matcher.retrieval.config import resolve_pipeline
from matcher.runtime import cpu_threads
from matcher.search import Searcher
from matcher.store import IndexStore

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
QUERIES = ["이차전지 양극재", "자율주행 로봇 위치 추정", "semiconductor memory device", "항암제 조성물", "무선 전력 전송"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pipeline", default=None, help="pipeline name (default: the configured default)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sources = [SHARED / "kipris-plus-xml", SHARED / "kipris-inu" / "inu_patents_dev.csv"]
    missing = [str(p) for p in sources if not p.exists()]
    if missing:
        raise SystemExit(f"real data absent: {missing}")
    out: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {cpu_threads()} threads",
                              "pipeline": resolve_pipeline(args.pipeline).name}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = ingest_paths(sources)
        out["ingest_s"] = round(time.perf_counter() - t, 2)
        report = result.report.to_dict()
        out.update({k: report[k] for k in ("read", "ingested", "duplicates", "rejected")})
        write_corpus(Path(tmp) / "corpus", result)
        pipeline = resolve_pipeline(args.pipeline)
        encoders = load_encoders(pipeline.encoders)  # loaded once, outside the timings
        t = time.perf_counter()
        cold = build_index(Path(tmp) / "corpus", Path(tmp) / "index", pipeline, encoders=encoders)
        out["cold_build_s"] = round(time.perf_counter() - t, 2)
        out["cold_texts_per_s"] = round(cold.embedded / max(cold.seconds, 1e-9), 1)
        t = time.perf_counter()
        warm = build_index(Path(tmp) / "corpus", Path(tmp) / "index", pipeline, encoders=encoders)
        out["warm_build_s"] = round(time.perf_counter() - t, 2)
        out["warm_embedded"] = warm.embedded
        out["count"] = warm.count
        searcher = Searcher(IndexStore(Path(tmp) / "index").load(encoders))
        times = []
        for _ in range(5):
            for q in QUERIES:
                t = time.perf_counter()
                searcher.search(q, 10)
                times.append(time.perf_counter() - t)
        out["search_p50_ms"] = round(1000 * statistics.median(times), 1)
        out["index_bytes"] = sum(f.stat().st_size for f in cold.path.iterdir())
        out["pid_rss_mb"] = round(int(Path(f"/proc/{os.getpid()}/status").read_text().split("VmHWM:")[1].split()[0]) / 1024)
    print(json.dumps(out, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
