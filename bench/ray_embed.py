"""Benchmark: the embed stage of a build, local runner vs Ray runner, on synthetic records.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/ray_embed.py [--n 2000] [--encoder use-m3] [--address ADDR] [--json]

Method: ``bench/synth.py`` writes ``n`` deterministic synthetic records (timing only, never quality); for each
encoder a dense-only pipeline (``dense:ENCODER``) is staged with :func:`matcher.build.stage_build` — no
lexical channel, so the stages are the embed stage — into a fresh index directory (cold embedding cache),
once with the local runner (this process, ``MATCHER_THREADS`` BLAS/torch threads: the machine's CPUs) and
once with the Ray runner (a local cluster of the machine's CPUs unless ``--address``; one 1-thread actor per
CPU, each loading the encoder once). The Ray run's time includes starting the actors and their encoder
loads; the cluster's own start is reported apart (``ray_init_s``). Documents per second are the texts
embedded over the stage's wall clock; ``max_abs_diff`` compares the two staged vector files. The 1-minute
load average is read before and after each run: on a shared machine it says what else was running.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from synth import records, write  # noqa: E402

from matcher.build import stage_build  # noqa: E402
from matcher.encoders import load_encoder  # noqa: E402
from matcher.ingest import ingest_paths, read_corpus, write_corpus  # noqa: E402
from matcher.retrieval.config import resolve_pipeline  # noqa: E402
from matcher.runners import LocalRunner, get_runner  # noqa: E402


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _stage(corpus: Any, index: Path, encoder_name: str, encoder: Any, runner: Any) -> tuple[dict[str, Any], np.ndarray]:
    before = _load()
    started = time.perf_counter()
    staged = stage_build(corpus, index, resolve_pipeline(f"dense:{encoder_name}"),
                         encoders={encoder_name: encoder}, runner=runner)
    seconds = time.perf_counter() - started
    vectors = np.load(staged.path / "embeddings" / f"{encoder_name}.npy")
    return {"seconds": round(seconds, 2), "embedded": staged.embedded,
            "docs_per_s": round(staged.embedded / seconds, 1), "load_before": before, "load_after": _load()}, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--encoder", action="append", help="registry encoder (repeatable; default use-m3)")
    parser.add_argument("--address", help="an existing Ray cluster (default: a local one started here)")
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one, removed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="ray-embed-"))
    try:
        spec = write(records(args.n), work / "synth")
        write_corpus(work / "corpus", ingest_paths([work / "synth"], spec=spec))
        corpus = read_corpus(work / "corpus")
        import ray

        out: dict[str, Any] = {"n": args.n, "cpus": os.cpu_count(), "python": platform.python_version(),
                               "ray": ray.__version__, "encoders": {}}
        results: dict[str, Any] = {}
        for name in args.encoder or ["use-m3"]:
            started = time.perf_counter()
            encoder = load_encoder(name)
            load_s = time.perf_counter() - started
            local, local_vectors = _stage(corpus, work / f"local-{name}", name, encoder, LocalRunner())
            results[name] = {"local_load_s": round(load_s, 2), "local": local, "vectors": local_vectors}
        started = time.perf_counter()
        ray.init(address=args.address, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
        out["ray_init_s"] = round(time.perf_counter() - started, 2)
        out["cluster_cpus"] = ray.cluster_resources().get("CPU")
        for name, result in results.items():
            runner = get_runner("ray")
            ray_result, ray_vectors = _stage(corpus, work / f"ray-{name}", name, load_encoder(name), runner)
            vectors = result.pop("vectors")
            out["encoders"][name] = {**result, "ray": ray_result,
                                     "max_abs_diff": float(np.abs(vectors - ray_vectors).max())}
        ray.shutdown()
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    for name, r in out["encoders"].items():
        print(f"{name}: local {r['local']['docs_per_s']} docs/s ({r['local']['seconds']} s), "
              f"ray {r['ray']['docs_per_s']} docs/s ({r['ray']['seconds']} s, cluster start {out['ray_init_s']} s), "
              f"max abs diff {r['max_abs_diff']:.2e}; load {r['local']['load_before']} → {r['ray']['load_after']}")


if __name__ == "__main__":
    main()
