"""Approximate dense search at scale: what exact scoring costs, how HNSW recalls, and converting an index.

    .venv/bin/python bench/ann.py sweep   --index DIR [--m 16 --m 32] [--json]
    .venv/bin/python bench/ann.py convert --index DIR --out DIR [--m 32] [--ef-construction 80] [--ef-search 128]
    .venv/bin/python bench/ann.py compare --exact DIR --approx DIR [--json]
    .venv/bin/python bench/ann.py profile --index DIR [--json]

``sweep`` reads the active version's dense channels (their FAISS files, as the manifest names them) and
encodes the query texts of ``bench/load.py`` (never in any index) with the version's encoders, then measures
with one thread (as the service runs each request): exact scoring (``matrix @ q``) of the first n vectors
for several n; per HNSW ``m`` a build of each channel and, per ``efSearch``, recall@10 of a top-10 search
and recall of the retriever's 200 candidates against exact, with the median search time; and filtered
searches (a bitmap of a fraction of the rows) against exact scoring of the same rows.

``convert`` writes the active version again under ``--out`` (a new index directory, made active there)
with every dense channel refitted as HNSW from the vectors its index stores (``HybridRetriever.reindex_dense``:
nothing is encoded; the statistics sample is drawn). Records, groups and the other files are copied.

``compare`` loads both versions and searches each query text in each (query vectors encoded first, so
only search is timed): overlap@10 of the fused rankings, median/p90 ms, unfiltered and with a filter.

``profile`` searches never-seen texts (each query text with a number appended, as ``load.py --fresh``
sends them) in one thread under cProfile and splits the time a search takes: query encoding (every
encoder call, the term translator's word lookups included), the ANN search, exact scoring of the sample and
chosen rows, BM25, query analysis, and the rest of the search body.
The suite never runs this.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.load import DEMANDS, QUERIES  # noqa: E402
from matcher.index.factory import create_index, index_class  # noqa: E402
from matcher.runtime import configure_serving  # noqa: E402
from matcher.store.versions import MANIFEST, IndexStore  # noqa: E402

EF_SEARCH = (32, 64, 128, 256, 384, 512)
CANDIDATES = 200
FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.5)


def query_texts() -> list[str]:
    """The benchmark's query texts: load.py's queries, its demands' texts and requirements (≈ 50)."""
    texts = list(QUERIES)
    for text, requirements in DEMANDS:
        texts += [text, *requirements]
    return list(dict.fromkeys(texts))


def median_ms(seconds: list[float]) -> float:
    return round(1000 * statistics.median(seconds), 3)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[f >= 0]) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def channel_vectors(path: Path) -> dict[str, np.ndarray]:
    """Each dense channel's stored vectors, read from the version's files."""
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    out = {}
    for name, entry in manifest["retriever"].get("dense", {}).items():
        index = index_class(entry["backend"]).load(path / entry["dir"], entry)
        out[name] = np.ascontiguousarray(index.vectors(np.arange(len(index), dtype=np.int64)))
    return out


def timed(fn: Any, queries: np.ndarray) -> tuple[list[Any], list[float]]:
    results, seconds = [], []
    for q in queries:
        started = time.perf_counter()
        results.append(fn(q))
        seconds.append(time.perf_counter() - started)
    return results, seconds


def exact_costs(x: np.ndarray, queries: np.ndarray) -> dict[int, float]:
    """Median ms of ``x[:n] @ q`` (one query, one thread) for several n up to len(x)."""
    out = {}
    for n in (5_000, 10_000, 20_000, 30_000, 50_000, 75_000, 100_000):
        if n > len(x):
            break
        part = x[:n]
        _, seconds = timed(lambda q, part=part: part @ q, queries)
        out[n] = median_ms(seconds)
    return out


def hnsw_sweep(x: np.ndarray, queries: np.ndarray, m: int, ef_construction: int) -> dict[str, Any]:
    truth = np.argsort(-(queries @ x.T), axis=1)
    started = time.perf_counter()
    index = create_index("hnsw", x.shape[1], len(x), m=m, ef_construction=ef_construction).fit(x)
    built = time.perf_counter() - started
    rows = []
    for ef in EF_SEARCH:
        index.params["ef_search"] = ef
        top10, s10 = timed(lambda q: index.search(q[None], 10)[1][0], queries)
        top200, s200 = timed(lambda q: index.search(q[None], CANDIDATES)[1][0], queries)
        rows.append({"ef_search": ef, "recall@10": round(recall(np.array(top10), truth[:, :10]), 4),
                     "ms@10": median_ms(s10), f"recall@{CANDIDATES}": round(recall(np.array(top200),
                                                                              truth[:, :CANDIDATES]), 4),
                     f"ms@{CANDIDATES}": median_ms(s200)})
    return {"m": m, "ef_construction": ef_construction, "build_s": round(built, 1), "by_ef_search": rows,
            "index": index}


def filtered(index: Any, x: np.ndarray, queries: np.ndarray, seed: int = 11) -> list[dict[str, Any]]:
    """HNSW restricted by a bitmap to a random fraction of the rows vs exact scoring of those rows."""
    rng = np.random.default_rng(seed)
    out = []
    for fraction in FRACTIONS:
        allowed = np.sort(rng.choice(len(x), int(fraction * len(x)), replace=False)).astype(np.int64)
        truth = allowed[np.argsort(-(queries @ x[allowed].T), axis=1)[:, :10]]
        found, s_ann = timed(lambda q, a=allowed: index.search(q[None], CANDIDATES, allowed=a)[1][0][:10], queries)
        _, s_exact = timed(lambda q, a=allowed: index.scores(q, a), queries)
        out.append({"fraction": fraction, "rows": int(allowed.size), "recall@10": round(recall(np.array(found), truth), 4),
                    "ann_ms": median_ms(s_ann), "exact_rows_ms": median_ms(s_exact)})
    return out


def cmd_sweep(args: argparse.Namespace) -> dict[str, Any]:
    store = IndexStore(args.index)
    version = store.load()
    configure_serving(version.retriever.encoders.values(), threads=1)
    texts = query_texts()
    vectors = channel_vectors(version.path)
    result: dict[str, Any] = {"index": str(args.index), "version": version.name, "queries": len(texts), "channels": {}}
    for name, x in vectors.items():
        queries = version.retriever.query_vectors(name, texts)
        channel: dict[str, Any] = {"rows": int(len(x)), "dimension": int(x.shape[1]),
                                   "exact_ms_by_rows": exact_costs(x, queries), "hnsw": []}
        for m in args.m:
            sweep = hnsw_sweep(x, queries, m, args.ef_construction)
            index = sweep.pop("index")
            if m == args.m[-1]:
                index.params["ef_search"] = args.ef_search
                channel["filtered"] = filtered(index, x, queries)
            channel["hnsw"].append(sweep)
            print(name, json.dumps(sweep), file=sys.stderr)
        result["channels"][name] = channel
    return result


def cmd_convert(args: argparse.Namespace) -> dict[str, Any]:
    source = IndexStore(args.index)
    path = source.current_path()
    version = source.load()
    started = time.perf_counter()
    version.retriever.reindex_dense("hnsw", m=args.m, ef_construction=args.ef_construction,
                                    ef_search=args.ef_search)
    fitted = time.perf_counter() - started
    manifest = {k: v for k, v in source.read_manifest(path).items() if k not in ("version", "retriever")}
    manifest["converted_from"] = {"index": str(args.index), "version": path.name, "backend": "hnsw"}

    def write(staging: Path) -> dict[str, Any]:
        entry = version.retriever.save(staging)
        for item in path.iterdir():  # what the retriever does not write: records, groups, ...
            if item.is_file() and item.name != MANIFEST and not (staging / item.name).exists():
                shutil.copy2(item, staging / item.name)
        return {"retriever": entry}

    target = IndexStore(args.out)
    final = target.stage(write, manifest)
    target.point_current(final.name)
    return {"out": str(final), "fit_s": round(fitted, 1), "m": args.m, "ef_construction": args.ef_construction,
            "ef_search": args.ef_search}


def cmd_compare(args: argparse.Namespace) -> dict[str, Any]:
    exact = IndexStore(args.exact).load()
    approx = IndexStore(args.approx).load(dict(exact.retriever.encoders))
    configure_serving(exact.retriever.encoders.values(), threads=1)
    texts = query_texts()
    for version in (exact, approx):
        version.retriever.prepare(texts)  # every vector cached: only search is timed
        for text in texts[:5]:
            version.retriever.search(text, 10)  # warm
    n = exact.retriever.document_count
    rng = np.random.default_rng(5)
    masks: dict[str, np.ndarray | None] = {"none": None}
    for fraction in (0.1, 0.5, 0.9):
        masks[f"random {fraction:.0%}"] = rng.random(n) < fraction
    out: dict[str, Any] = {}
    for label, mask in masks.items():
        row: dict[str, Any] = {}
        ranked = {}
        for name, version in (("exact", exact), ("approx", approx)):
            seconds, ranked[name] = [], []
            for text in texts:
                started = time.perf_counter()
                hits = version.retriever.search(text, 10, allowed=mask)
                seconds.append(time.perf_counter() - started)
                ranked[name].append([h.position for h in hits])
            row[f"{name}_ms_p50"] = median_ms(seconds)
            row[f"{name}_ms_p90"] = round(1000 * float(np.percentile(seconds, 90)), 3)
        row["overlap@10"] = round(float(np.mean([len(set(a) & set(b)) / max(1, len(b)) for a, b in
                                                 zip(ranked["approx"], ranked["exact"], strict=True)])), 4)
        out[label] = row
        print(label, json.dumps(row), file=sys.stderr)
    return {"exact": str(args.exact), "approx": str(args.approx), "queries": len(texts), "by_filter": out}


#: what ``profile`` reports of a search whose vectors are cached: a label and the (file suffix, function)
#: pairs whose cumulative time it sums
PROFILE_PARTS = {
    "dense channels (_dense_scores: flat matrix @ q, or ANN + sample + chosen rows)": [
        ("retrieval/retriever.py", "_dense_scores")],
    "  of which the ANN search (FAISS)": [("index/faiss_index.py", "search")],
    "  of which exact scores of the sample and chosen rows": [
        ("retrieval/sample.py", "scores"), ("index/faiss_index.py", "scores"), ("index/base.py", "scores")],
    "BM25 scoring": [("retrieval/bm25.py", "score_weighted")],
    "query analysis and term translation": [("retrieval/retriever.py", "query_terms")],
}


def cmd_profile(args: argparse.Namespace) -> dict[str, Any]:
    import cProfile
    import pstats

    version = IndexStore(args.index).load()
    retriever = version.retriever
    configure_serving(retriever.encoders.values(), threads=1)
    texts = query_texts()
    for text in texts[:5]:
        retriever.search(f"{text} warm", 10)
    fresh = [f"{text} {i}" for i in range(args.rounds) for text in texts]
    encode, search = [], []
    profiler = cProfile.Profile()
    for text in fresh:
        started = time.perf_counter()
        retriever.prepare([text])  # every encode the search would make (text per encoder, translated words)
        encode.append(time.perf_counter() - started)
        started = time.perf_counter()
        profiler.enable()
        retriever.search(text, 10)
        profiler.disable()
        search.append(time.perf_counter() - started)
    stats = pstats.Stats(profiler).stats  # (file, line, function) → (cc, nc, tottime, cumtime, callers)
    parts = {"encode (query per encoder, translated words)": round(1000 * statistics.mean(encode), 2),
             "search with cached vectors": round(1000 * statistics.mean(search), 2)}
    for label, wanted in PROFILE_PARTS.items():
        seconds = sum(v[3] for (file, _, fn), v in stats.items()
                      if any(file.endswith(suffix) and fn == name for suffix, name in wanted))
        parts[label] = round(1000 * seconds / len(fresh), 2)
    top = [label for label in PROFILE_PARTS if not label.startswith(" ")]
    parts["rest of the search body"] = round(parts["search with cached vectors"] - sum(parts[k] for k in top), 2)
    return {"index": str(args.index), "version": version.name, "searches": len(fresh),
            "mean_ms_per_search (cProfile inflates the search parts)": parts,
            "encode_ms_p50": median_ms(encode), "search_ms_p50": median_ms(search)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sweep")
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--m", type=int, action="append", help="HNSW M (repeat; default 16 and 32)")
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--ef-search", type=int, default=256, help="efSearch for the filtered runs")
    p = sub.add_parser("convert")
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--m", type=int, default=32)
    p.add_argument("--ef-construction", type=int, default=80)
    p.add_argument("--ef-search", type=int, default=128)
    p = sub.add_parser("profile")
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--rounds", type=int, default=2, help="fresh copies of each query text (default 2)")
    p = sub.add_parser("compare")
    p.add_argument("--exact", type=Path, required=True)
    p.add_argument("--approx", type=Path, required=True)
    for p in sub.choices.values():
        p.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.command == "sweep" and not args.m:
        args.m = [16, 32]
    commands = {"sweep": cmd_sweep, "convert": cmd_convert, "compare": cmd_compare, "profile": cmd_profile}
    result = commands[args.command](args)
    print(json.dumps(result, indent=1 if not args.json else None, ensure_ascii=False))


if __name__ == "__main__":
    main()
