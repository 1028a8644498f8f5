"""CPU per English query encode: ``minilm-f32q`` (queries through the float32 ONNX export) vs ``minilm`` (the
int8 export, the default since 2026-11-29), one query per call as the service encodes a search, one onnxruntime thread.

Each English query of ``bench/load.py`` is encoded ``--calls`` times by each encoder, the two alternating
call by call (drift and other load touch both alike); the CPU of a call is ``time.process_time()`` around
``encode_queries([text])`` (the encoder itself: no query-vector cache). Prints per query the median CPU ms of
each and their ratio, then the medians over all calls, and the cosine of the two vectors per query.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/query_encode.py [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from bench.load import QUERIES
from matcher.encoders import load_encoder
from matcher.text.lang import hangul_share

ENGLISH = [q for q in QUERIES if hangul_share(q) == 0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200, help="encodes of each query by each encoder")
    ap.add_argument("--float", dest="float_encoder", default="minilm-f32q")
    ap.add_argument("--int8", dest="int8_encoder", default="minilm")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    encoders = {"float": load_encoder(args.float_encoder), "int8": load_encoder(args.int8_encoder)}
    for name, encoder in encoders.items():
        runtime = getattr(encoder, "query_runtime", "?")
        if runtime not in ("onnx", "onnx-int8"):
            raise SystemExit(f"{name} ({encoder.identity.name}) runs its queries through {runtime}, not ONNX")
        encoder.set_threads(1)  # type: ignore[attr-defined]
        for text in ENGLISH:  # warm up: first-run allocations out of the timing
            encoder.encode_queries([text])
    per_query = []
    every: dict[str, list[float]] = {name: [] for name in encoders}
    for text in ENGLISH:
        spent: dict[str, list[float]] = {name: [] for name in encoders}
        for _ in range(args.calls):
            for name, encoder in encoders.items():
                started = time.process_time()
                encoder.encode_queries([text])
                spent[name].append(time.process_time() - started)
        vectors = {name: encoder.encode_queries([text])[0] for name, encoder in encoders.items()}
        row = {"query": text, **{f"{name}_ms": round(1000 * statistics.median(v), 3) for name, v in spent.items()},
               "cosine": round(float(np.dot(vectors["float"], vectors["int8"])), 4)}
        row["ratio"] = round(row["int8_ms"] / row["float_ms"], 3)
        per_query.append(row)
        for name, v in spent.items():
            every[name].extend(v)
    overall = {f"{name}_ms": round(1000 * statistics.median(v), 3) for name, v in every.items()}
    overall["ratio"] = round(overall["int8_ms"] / overall["float_ms"], 3)
    result = {"calls_per_query": args.calls, "queries": per_query, "all": overall}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        for row in per_query:
            print(f"{row['float_ms']:7.3f} ms  {row['int8_ms']:7.3f} ms  x{row['ratio']:.2f}  cos {row['cosine']:.4f}"
                  f"  {row['query']}")
        print(f"all: float {overall['float_ms']:.3f} ms, int8 {overall['int8_ms']:.3f} ms per query (x{overall['ratio']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
