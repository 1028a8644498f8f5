"""Scale benchmark (issue 14 point 3): build, memory, index size, in-process and API latency, exact vs ANN.

    # 10k: synthetic records → ingest → build (default pipeline) → every measurement
    HF_HUB_OFFLINE=1 .venv/bin/python bench/scale.py --n 10000 --work /work/scratch/scale/n10k \\
        --results bench-scale.jsonl --json
    # 100k: reuse a built index (no rebuild); its build as bench/nightly.py logged it
    HF_HUB_OFFLINE=1 .venv/bin/python bench/scale.py --index /work/scratch/s5/nb100k/index \\
        --build-log /work/scratch/s5/nb100k/full.log --work /work/scratch/scale/n100k --results ... --json
    # 1M service start and memory: K copies of a built index's active version (--tile K), no ANN part
    ... bench/scale.py --index /work/scratch/s5/nb100k/index --tile 10 --skip inprocess,ann --clients 4 --work ... --json
    # 1M ANN: exact vs HNSW vs IVF on the static encoder's vectors of N synthetic records (no index needed)
    ... bench/scale.py --ann-synth 1000000 --skip inprocess,service --work ... --json

Parts (``--skip`` any of ``build,inprocess,service,ann``):

1. **build** — ``bench/synth.py`` records (timing only, never quality), ``matcher ingest``, then ``matcher
   build --pipeline P --backend B`` as a child process: wall seconds, peak RSS (``os.wait4``), texts embedded.
   With ``--index`` nothing is built; ``--build-log`` reports the build stage of a ``bench/nightly.py`` log.
   Always: the active version's size on disk and the BM25 arrays' bytes (the sparse matrix as loaded).
2. **inprocess** — the index loaded as the service loads it (``open_index`` + ``Searcher``); each of
   ``bench/load.py``'s 22 queries once as warm-up, then ``--repeats`` rounds of never-seen variants (a number
   appended, so no query cache answers): p50/p99 of ``Searcher.search(q, 10)``.
3. **service** — ``matcher serve`` (``bench/load.py``'s start-up, fresh officer key): seconds from spawn until
   ``/health`` answers, the server's RSS after start and after each run, then ``bench/load.py``'s ``drive`` with
   never-seen texts: search at each of ``--clients``, match and bundles at the first (``--endpoints``); with
   each run the server's CPU ms a request (all its processes: a figure contention inflates far less than
   latency), the client's, and each worker's share of the server's CPU (are the workers evenly loaded?);
   ``--py-spy FILE`` launches the server under py-spy and summarises where its busy samples went.
4. **ann** — every dense channel of the index (vectors read from the version's files, as the flat/exact
   backends keep them): FAISS flat (exact, the ground truth) vs ``create_index("hnsw"|"ivf")`` at their
   defaults and a sweep of efSearch / nprobe; queries = the 22 queries encoded by the channel's encoder (the
   English-only channel: the English ones) plus a deterministic sample of documents (themselves excluded from
   both answers). Recall@10 against exact, one-query-at-a-time latency, build seconds, serialized bytes.

Results are printed (``--json``) and appended as one JSON line to ``--results``. Progress goes to stderr.
Heavy: run on a quiet machine, one at a time (``nice``; ``MATCHER_THREADS`` bounds BLAS/FAISS threads).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import load as loadbench  # noqa: E402
from synth import records, write  # noqa: E402

from matcher.index.factory import create_index, index_class  # noqa: E402
from matcher.store import IndexStore  # noqa: E402
from matcher.store.versions import file_sha256  # noqa: E402

PARTS = ("build", "inprocess", "service", "ann")
HNSW_EF = (16, 32, 64, 128, 256, 512)
IVF_NPROBE = (4, 8, 16, 32, 64, 128)
RECALL_GOAL = 0.95
T0 = time.perf_counter()


def say(message: str) -> None:
    print(f"[scale {time.perf_counter() - T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO)}


def timed_child(cmd: list[str], log: Path) -> dict[str, Any]:
    """Run ``cmd`` (stderr to ``log``): its parsed JSON stdout, wall seconds, peak RSS (MB) and exit code."""
    t0 = time.perf_counter()
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=child_env(), stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}); see {log}")
    return {"report": json.loads(out) if out.strip() else {}, "wall_s": round(time.perf_counter() - t0, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def percentiles(ms: Sequence[float]) -> dict[str, float | None]:
    values = sorted(ms)
    return {"p50_ms": loadbench.percentile(values, 50), "p99_ms": loadbench.percentile(values, 99),
            "n": len(values)}


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``matcher serve --workers N``: the supervisor and its N workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = task / "children"
            if children.is_file():
                todo.extend(int(c) for c in children.read_text().split())
    return found


def proc_memory_mb(pid: int) -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident memory of process ``pid`` and its descendants, MB (summed:
    several workers' peaks need not coincide, so the peak is an upper bound for more than one process)."""
    rss = peak = 0
    for each in process_tree(pid):
        try:
            text = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        rss += int(fields["VmRSS"].split()[0])
        peak += int(fields["VmHWM"].split()[0])
    return {"rss_mb": rss // 1024, "peak_rss_mb": peak // 1024}


def proc_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of process ``pid`` and of each of its descendants, by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for each in process_tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        out[each] = (int(fields[11]) + int(fields[12])) / tick
    return out


def cpu_per_request(before: dict[int, float], after: dict[int, float], client: tuple[float, float],
                    requests: int) -> dict[str, Any]:
    """The server's CPU ms a request (every process of it), the driving client's, and each process's share of
    the server's CPU (how evenly the workers were loaded): contention inflates latency, much less CPU time."""
    spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    total = sum(spent.values())
    busy = sorted((v for v in spent.values() if v > 0.05 * total), reverse=True) if total else []
    return {"server_cpu_ms_per_request": round(1000 * total / max(requests, 1), 2),
            "client_cpu_ms_per_request": round(1000 * (client[1] - client[0]) / max(requests, 1), 2),
            "server_cpu_share_by_process": [round(v / total, 2) for v in busy]}


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# ---------------------------------------------------------------------------------------------- build
def build_synthetic(n: int, work: Path, pipeline: str | None, backend: str) -> tuple[Path, dict[str, Any]]:
    """synth → ``matcher ingest`` → ``matcher build`` (children); the index directory and the build's numbers."""
    source = work / "source"
    say(f"writing {n:,} synthetic records to {source}")
    spec = write(records(n), source)
    ingest = timed_child([sys.executable, "-m", "service.cli", "ingest", str(source / "technologies.csv"),
                          "--spec", str(spec), "--out", str(work / "corpus"), "--quiet", "--json"],
                         work / "ingest.log")
    index = work / "index"
    cmd = [sys.executable, "-m", "service.cli", "build", "--corpus", str(work / "corpus"), "--index", str(index),
           "--backend", backend, "--json", "--quiet"] + (["--pipeline", pipeline] if pipeline else [])
    say(f"building: {' '.join(cmd[2:])}")
    built = timed_child(cmd, work / "build.log")
    report = built["report"]
    return index, {"records": n, "ingest_wall_s": ingest["wall_s"], "wall_s": built["wall_s"],
                   "peak_rss_mb": built["peak_rss_mb"], "embedded": report.get("embedded"),
                   "tokenized": report.get("tokenized"), "backend": report.get("backend"),
                   "command": " ".join(["matcher", *cmd[3:]])}


def build_from_log(log: Path) -> dict[str, Any]:
    """The build stage and the whole run of a ``bench/nightly.py`` child log (JSON lines)."""
    out: dict[str, Any] = {"from_log": str(log)}
    for line in log.read_text(encoding="utf-8").splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("stage") == "build":
            out.update({"build_stage_s": event.get("seconds"), "embedded": event.get("embedded"),
                        "tokenized": event.get("tokenized"), "records": event.get("count")})
        elif event.get("stage") == "run":
            out["nightly_run_s"] = event.get("seconds")
    return out


# ---------------------------------------------------------------------------------------------- the index on disk
def index_facts(index: Path) -> dict[str, Any]:
    """Active version: bytes on disk (and the biggest files), records, dense channels, BM25 arrays' bytes."""
    from matcher.retrieval.bm25 import BM25

    store = IndexStore(index)
    path = store.current_path()
    manifest = store.read_manifest(path)
    entry = manifest["retriever"]
    files = sorted(((dir_bytes(f) if f.is_dir() else f.stat().st_size, f.name) for f in path.iterdir()), reverse=True)
    out: dict[str, Any] = {
        "version": path.name, "records": manifest["count"], "pipeline": manifest["pipeline"]["name"],
        "disk_bytes": dir_bytes(path), "largest_files_mb": {name: round(b / 2**20, 1) for b, name in files[:6]},
        "dense": {name: {"backend": d["backend"], "rows": d["rows"], "dimension": d["dimension"]}
                  for name, d in entry.get("dense", {}).items()},
    }
    if "bm25" in entry:
        model = BM25.load(path, entry["bm25"])
        m = model.weights_t_
        out["bm25"] = {"terms": len(model.vocab_), "nonzeros": int(m.nnz),
                       "bytes": m.data.nbytes + m.indices.nbytes + m.indptr.nbytes}
    if "tiled_from" in manifest:
        out["tiled_from"] = manifest["tiled_from"]
    return out


def stored_vectors(directory: Path, entry: dict[str, Any]) -> np.ndarray | None:
    """A copy of the vectors a flat/exact dense channel stores (``None`` for an approximate backend).

    ``matrix()`` of a FAISS flat index is a view into the index's own memory: copied while the index lives."""
    index = index_class(entry["backend"]).load(directory, entry)
    matrix = index.matrix()
    return None if matrix is None else np.array(matrix, dtype=np.float32, copy=True, order="C")


def tile_index(source: Path, factor: int, work: Path) -> Path:
    """A new index store under ``work`` whose one version is ``factor`` copies of ``source``'s active version
    (ids ``ID``, ``ID.1`` … ``ID.{factor-1}``; texts, vectors and BM25 rows repeated; groups' members with
    them): the size of a ``factor``× corpus for load time and memory, built in minutes, never for quality."""
    import scipy.sparse as sp

    src = IndexStore(source).current_path()
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    n = int(manifest["count"])
    name = f"tiled{factor}x-{src.name}"
    dst_root = work / "tiled-index"
    shutil.rmtree(dst_root, ignore_errors=True)
    dst = dst_root / "versions" / name
    dst.mkdir(parents=True)
    say(f"tiling {src.name} ×{factor} → {dst}")

    def suffix(r: int) -> str:
        return "" if r == 0 else f".{r}"

    with (src / "technologies.jsonl").open(encoding="utf-8") as fh:
        lines = fh.readlines()
    with (dst / "technologies.jsonl").open("w", encoding="utf-8") as out:
        for r in range(factor):
            for line in lines:
                row = json.loads(line)
                row["id"] += suffix(r)
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    del lines
    groups = json.loads((src / "groups.json").read_text(encoding="utf-8"))
    for group in groups["groups"]:
        group["members"] = sorted(m + suffix(r) for r in range(factor) for m in group["members"])
        group["size"] = len(group["members"])
    (dst / "groups.json").write_text(json.dumps(groups, ensure_ascii=False), encoding="utf-8")
    np.save(dst / "korean.npy", np.tile(np.load(src / "korean.npy"), factor), allow_pickle=False)
    if (src / "bm25.npz").exists():
        sp.save_npz(dst / "bm25.npz", sp.vstack([sp.load_npz(src / "bm25.npz")] * factor, format="csr"),
                    compressed=False)
    for f in src.iterdir():
        if f.is_file() and not (dst / f.name).exists() and f.name != "manifest.json":
            shutil.copy2(f, dst / f.name)
    retriever = manifest["retriever"]
    for channel, entry in retriever.get("dense", {}).items():
        sub, out_sub = src / entry["dir"], dst / entry["dir"]
        out_sub.mkdir()
        rows = np.load(sub / "rows.npy")
        np.save(out_sub / "rows.npy", np.concatenate([rows + r * n for r in range(factor)]), allow_pickle=False)
        matrix = stored_vectors(sub, entry)
        if matrix is None:
            raise SystemExit(f"--tile needs flat or exact dense channels; {channel} is {entry['backend']}")
        flat = create_index(entry["backend"], int(entry["dimension"]))
        flat.fit(np.tile(matrix, (factor, 1)))
        flat.save(out_sub)
        for f in sub.iterdir():  # the statistics sample (positions of the first copy) and anything else
            if f.is_file() and not (out_sub / f.name).exists():
                shutil.copy2(f, out_sub / f.name)
        entry["rows"] = int(rows.size) * factor
        del flat
    retriever["count"] = manifest["count"] = n * factor
    manifest["counts"]["technologies"] = n * factor
    manifest["version"] = name
    manifest["tiled_from"] = {"version": str(src), "factor": factor}
    records = dst / "technologies.jsonl"
    manifest["records"] = {"file": records.name, "bytes": records.stat().st_size, "sha256": file_sha256(records)}
    (dst / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    (dst_root / "CURRENT").write_text(name + "\n", encoding="utf-8")
    return dst_root


# ---------------------------------------------------------------------------------------------- in process
def in_process(index: Path, queries: Sequence[str], repeats: int, top_k: int) -> dict[str, Any]:
    """Load and size the threads as the service does (``configure_serving``: one BLAS/faiss thread per request
    unless ``MATCHER_QUERY_THREADS``), warm up, then never-seen variants of ``queries`` one at a time."""
    from matcher.runtime import configure_serving
    from matcher.search import Searcher, open_index

    t = time.perf_counter()
    version = open_index(index)
    load_s = time.perf_counter() - t
    threads = configure_serving(version.retriever.encoders.values())
    searcher = Searcher(version)
    for q in queries:
        searcher.search(q, top_k)
    korean: list[float] = []
    other: list[float] = []
    number = 0
    for _ in range(repeats):
        for q in queries:
            number += 1
            t = time.perf_counter()
            searcher.search(f"{q} {number}", top_k)
            (korean if loadbench.is_korean(q) else other).append((time.perf_counter() - t) * 1000)
    return {"load_s": round(load_s, 1), "threads": threads, **percentiles(korean + other),
            "p50_ms_korean": percentiles(korean)["p50_ms"], "p50_ms_english": percentiles(other)["p50_ms"],
            "process_memory_mb": proc_memory_mb(os.getpid())}


# ---------------------------------------------------------------------------------------------- the API
def py_spy_prefix(out: Path) -> list[str]:
    """``py-spy record`` (next to this Python) launching the server: collapsed stacks to ``out`` when it gets
    SIGINT (attaching to a running process is refused in this container)."""
    return [str(Path(sys.executable).with_name("py-spy")), "record", "--rate", "100", "--format", "raw",
            "--output", str(out), "--"]


def served_pid(proc: subprocess.Popen, profiled: bool) -> int:
    """The server's pid: ``proc``'s own, or its one child when a profiler launched it."""
    if not profiled:
        return proc.pid
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return int(children[0]) if children else proc.pid


STARTUP_FRAMES = ("create_app", "_find_and_load", "load_engine")


def profile_summary(raw: Path, top: int = 20) -> dict[str, Any]:
    """From py-spy's collapsed stacks: the share of samples in which each function is on the stack (inclusive)
    and at the top of it (self), the ``top`` of each; start-up (imports, loading the index) and idle threads
    (waiting on a lock/selector) left out."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1] + ")"
                  for f in stack.split(";") if f]
        if not frames or any(idle in frames[-1] for idle in ("wait (threading", "select (selectors", "_worker (")):
            continue
        if any(f.startswith(STARTUP_FRAMES) for f in frames):
            continue
        n = int(count)
        total += n
        for f in set(frames):
            inclusive[f] = inclusive.get(f, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n

    def share(d: dict[str, int]) -> dict[str, float]:
        return {k: round(v / max(total, 1), 3) for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]}

    return {"busy_samples": total, "inclusive": share(inclusive), "self": share(own)}


def api(index: Path, clients: Sequence[int], endpoints: Sequence[str], duration: float, warmup: float, top_k: int,
        start_timeout: float, profile: Path | None = None, workers: int = 1) -> dict[str, Any]:
    """``matcher serve`` start-up, its memory, and search (at each of ``clients``), match and bundles (at the
    first) under load, never-seen texts; with ``profile`` py-spy samples the server throughout (its latencies
    then include py-spy's cost; the summary leaves start-up out)."""
    env = child_env()
    out: dict[str, Any] = {}
    counter = [0]
    with tempfile.TemporaryDirectory(prefix="matcher-scale-") as tmp:
        say(f"starting matcher serve on {index}")
        proc, base, key, startup_s, health = loadbench.start_server(
            index, REPO, env, Path(tmp), start_timeout, prefix=py_spy_prefix(profile) if profile else None,
            workers=workers)
        pid = served_pid(proc, profile is not None)
        try:
            out["start_s"] = startup_s
            out["workers"] = workers
            out["technologies"] = health.get("count")
            out["memory_after_start"] = proc_memory_mb(pid)
            say(f"serving after {startup_s} s, {out['memory_after_start']}")
            runs = [(e, c) for e in endpoints for c in (clients if e == "search" else clients[:1])]
            for endpoint, n in runs:
                texts: list[loadbench.Item] = list(loadbench.QUERIES if endpoint == "search" else loadbench.DEMANDS)
                loadbench.warm_up(base, key, texts, endpoint, top_k, fresh=True, counter=counter)
                if warmup > 0:
                    loadbench.drive(base, key, texts, n, warmup, top_k, endpoint=endpoint, fresh=True, counter=counter)
                load_before = os.getloadavg()[0]
                cpu_before, client_before = proc_cpu_seconds(pid), own_cpu_seconds()
                result = loadbench.drive(base, key, texts, n, duration, top_k, endpoint=endpoint, fresh=True,
                                         counter=counter)
                cpu = cpu_per_request(cpu_before, proc_cpu_seconds(pid), (client_before, own_cpu_seconds()),
                                      result["requests"])
                keep = ("requests", "errors", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms",
                        "p50_ms_korean_texts", "p50_ms_english_texts")
                out[f"{endpoint}_{n}_clients"] = {**{k: result[k] for k in keep}, **cpu,
                                                  "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                                                  "server_memory_after": proc_memory_mb(pid)}
                say(f"{endpoint} × {n} clients: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
                    f"{result['rps']} req/s, errors {result['errors']}, server CPU "
                    f"{cpu['server_cpu_ms_per_request']} ms a request {cpu['server_cpu_share_by_process']}")
            out["memory_after_load"] = proc_memory_mb(pid)
        finally:
            if profile is not None:
                proc.send_signal(signal.SIGINT)  # py-spy writes its samples and stops the server
                proc.wait(timeout=120)
                if pid != proc.pid and Path(f"/proc/{pid}").exists():
                    os.kill(pid, signal.SIGTERM)
            loadbench.stop_server(proc)
    if profile is not None:
        out["profile"] = {"file": str(profile), **profile_summary(profile)}
    return out


# ---------------------------------------------------------------------------------------------- exact vs ANN
def channel_vectors(index: Path) -> dict[str, tuple[np.ndarray, dict[str, Any]]]:
    """Each dense channel's document vectors (read from the active version's files) and its encoder entry."""
    store = IndexStore(index)
    path = store.current_path()
    manifest = store.read_manifest(path)
    out = {}
    for name, entry in manifest["retriever"].get("dense", {}).items():
        matrix = stored_vectors(path / entry["dir"], entry)
        if matrix is None:
            say(f"channel {name}: backend {entry['backend']} keeps no flat vectors; skipped")
            continue
        out[name] = (matrix, manifest["encoders"][name])
    return out


def synthetic_static_vectors(n: int, encoder_name: str = "static-use-ko") -> tuple[np.ndarray, dict[str, Any]]:
    """``encoder_name``'s vectors of ``n`` synthetic records' document texts (title, English title, abstract,
    as ``Technology.text`` joins them)."""
    from matcher.encoders import load_encoder

    encoder = load_encoder(encoder_name)
    rows = records(n)
    texts = ["\n".join([r["title"], *([r["title_en"]] if r["title_en"] and r["title_en"] not in r["title"] else []),
                        *([r["abstract"]] if r["abstract"] else [])]) for r in rows]
    del rows
    chunks = []
    step = 50_000
    for i in range(0, n, step):
        chunks.append(encoder.encode_documents(texts[i:i + step]))
        say(f"encoded {min(i + step, n):,} / {n:,} synthetic texts with {encoder_name}")
    return np.vstack(chunks).astype(np.float32), {"model_spec": encoder_name, "synthetic_records": n}


def query_set(vectors: np.ndarray, encoder_entry: dict[str, Any], queries: Sequence[str],
              doc_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """Encoded queries (English ones only for an English-only encoder) then sampled documents; the position of
    each query's own document (-1 for a typed query)."""
    from matcher.encoders import load_encoder

    english_only = list(encoder_entry.get("languages", ["ko"])) == ["en"]
    texts = [q for q in queries if not (english_only and loadbench.is_korean(q))]
    encoder = load_encoder(encoder_entry.get("model_spec") or encoder_entry["name"])
    typed = encoder.encode_queries(texts).astype(np.float32)
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(vectors.shape[0], size=min(doc_queries, vectors.shape[0]), replace=False))
    q = np.vstack([typed, vectors[sample]])
    own = np.concatenate([np.full(len(texts), -1, dtype=np.int64), sample.astype(np.int64)])
    return np.ascontiguousarray(q), own


def timed_queries(index: Any, q: np.ndarray, own: np.ndarray, k: int) -> tuple[list[np.ndarray], list[float]]:
    """Top ``k`` positions per query, one query at a time, a query's own document dropped; latencies in ms."""
    answers: list[np.ndarray] = []
    ms: list[float] = []
    for i in range(q.shape[0]):
        t = time.perf_counter()
        _, pos = index.search(q[i:i + 1], k + 1)
        ms.append((time.perf_counter() - t) * 1000)
        answers.append(pos[0][pos[0] != own[i]][:k])
    return answers, ms


def recall(truth: list[np.ndarray], got: list[np.ndarray]) -> float:
    hits = sum(len(set(t.tolist()) & set(g.tolist())) for t, g in zip(truth, got, strict=True))
    return round(hits / max(1, sum(len(t) for t in truth)), 4)


def serialized_mb(index: Any) -> float:
    with tempfile.TemporaryDirectory(prefix="matcher-scale-ann-") as tmp:
        index.save(Path(tmp))
        return round(dir_bytes(Path(tmp)) / 2**20, 1)


def sweep(index: Any, param: str, values: Sequence[int], q: np.ndarray, own: np.ndarray, k: int,
          truth: list[np.ndarray]) -> list[dict[str, Any]]:
    """Recall@k and latency at each value of the search parameter ``param`` (restored afterwards)."""
    default = index.params[param]
    rows = []
    for value in sorted({*values, int(default)}):
        index.params[param] = value
        got, ms = timed_queries(index, q, own, k)
        rows.append({param: value, "default": value == default, "recall_at_10": recall(truth, got), **percentiles(ms)})
    index.params[param] = default
    return rows


def ann_channel(name: str, vectors: np.ndarray, q: np.ndarray, own: np.ndarray, k: int,
                backends: Sequence[str] = ("hnsw", "ivf")) -> dict[str, Any]:
    """Flat (exact) vs HNSW vs IVF over one channel's vectors."""
    n, d = vectors.shape
    out: dict[str, Any] = {"vectors": n, "dimension": d, "queries": int(q.shape[0]),
                           "typed_queries": int((own < 0).sum())}
    t = time.perf_counter()
    flat = create_index("flat", d, n).fit(vectors)
    out["flat_build_s"] = round(time.perf_counter() - t, 2)
    truth, ms = timed_queries(flat, q, own, k)
    out["flat"] = {"recall_at_10": 1.0, **percentiles(ms), "serialized_mb": round(vectors.nbytes / 2**20, 1)}
    scan: list[float] = []  # what HybridRetriever does with a flat channel: every row's score, matrix @ q
    for i in range(min(q.shape[0], 50)):
        t = time.perf_counter()
        vectors @ q[i]
        scan.append((time.perf_counter() - t) * 1000)
    out["retriever_full_scan"] = percentiles(scan)
    del flat
    for backend, param, values in (("hnsw", "ef_search", HNSW_EF), ("ivf", "nprobe", IVF_NPROBE)):
        if backend not in backends:
            continue
        say(f"{name}: building {backend} over {n:,} × {d}")
        t = time.perf_counter()
        ann = create_index(backend, d, n).fit(vectors)
        build_s = round(time.perf_counter() - t, 1)
        rows = sweep(ann, param, values, q, own, k, truth)
        reaching = [r[param] for r in rows if r["recall_at_10"] >= RECALL_GOAL]
        default_row = next(r for r in rows if r["default"])
        out[backend] = {"build_s": build_s, "params": dict(ann.params), "serialized_mb": serialized_mb(ann),
                        "recall_at_10": default_row["recall_at_10"], "p50_ms": default_row["p50_ms"],
                        "p99_ms": default_row["p99_ms"], "meets_goal_at_default": default_row["recall_at_10"] >= RECALL_GOAL,
                        f"smallest_{param}_reaching_{RECALL_GOAL}": min(reaching) if reaching else None,
                        "sweep": rows}
        say(f"{name}: {backend} built in {build_s} s, recall@10 {default_row['recall_at_10']} at {param}="
            f"{ann.params[param]}, p50 {default_row['p50_ms']} ms")
        del ann
    return out


def ann(channels: dict[str, tuple[np.ndarray, dict[str, Any]]], queries: Sequence[str], doc_queries: int,
        backends: Sequence[str] = ("hnsw", "ivf"), k: int = 10) -> dict[str, Any]:
    from matcher.runtime import cpu_threads

    out: dict[str, Any] = {"faiss_threads": cpu_threads()}
    for name, (vectors, entry) in channels.items():
        q, own = query_set(vectors, entry, queries, doc_queries)
        out[name] = ann_channel(name, vectors, q, own, k, backends)
        synthetic = entry.get("synthetic_records")
        out[name]["source"] = f"{entry['model_spec']} vectors of {synthetic:,} synthetic records" if synthetic else "the index"
    return out


# ---------------------------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--n", type=int, help="build an index of N synthetic records under --work")
    what.add_argument("--index", type=Path, help="measure this built index (an IndexStore root); nothing built")
    what.add_argument("--ann-synth", type=int, metavar="N",
                      help="only the ANN part, on static-use-ko vectors of N synthetic records")
    p.add_argument("--work", type=Path, required=True, help="scratch directory (source, corpus, index, logs)")
    p.add_argument("--build-log", type=Path, help="with --index: the bench/nightly.py log whose build to report")
    p.add_argument("--tile", type=int, default=1, help="with --index: measure K copies of its active version")
    p.add_argument("--pipeline", help="with --n: build pipeline (default: the configured default)")
    p.add_argument("--backend", default="auto", help="with --n: vector backend of the build (default auto)")
    p.add_argument("--skip", default="", help=f"comma-separated parts to skip: {','.join(PARTS)}")
    p.add_argument("--clients", default="4,16", help="API client counts for search; match/bundles at the first")
    p.add_argument("--duration", type=float, default=20, help="measured seconds per API run (default 20)")
    p.add_argument("--warmup", type=float, default=5, help="concurrent warm-up seconds per API run (default 5)")
    p.add_argument("--repeats", type=int, default=5, help="in-process rounds over the 22 queries (default 5)")
    p.add_argument("--ann-backends", default="hnsw,ivf", help="approximate backends to compare (default hnsw,ivf)")
    p.add_argument("--doc-queries", type=int, default=200, help="ANN: sampled documents used as queries")
    p.add_argument("--start-timeout", type=float, default=600, help="seconds to wait for the server's /health")
    p.add_argument("--workers", type=int, default=1, help="matcher serve --workers (default 1)")
    p.add_argument("--endpoints", default="search,match,bundles", help="API runs (default search,match,bundles)")
    p.add_argument("--py-spy", type=Path, metavar="FILE",
                   help="run the server under py-spy (collapsed stacks to FILE, a summary in the result)")
    p.add_argument("--results", type=Path, help="append the result as one JSON line to this file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args(argv)
    args.skip = {s for s in args.skip.split(",") if s}
    if args.skip - set(PARTS):
        p.error(f"--skip takes {PARTS}")
    args.clients = [int(c) for c in args.clients.split(",")]
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    args.ann_backends = [b for b in args.ann_backends.split(",") if b]
    if set(args.endpoints) - {"search", "match", "bundles"}:
        p.error("--endpoints takes search, match, bundles")
    if (args.tile != 1 or args.build_log) and not args.index:
        p.error("--tile and --build-log go with --index")
    return args


def run_parts(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    queries = list(loadbench.QUERIES)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.ann_synth:
        if "ann" not in args.skip:
            out["ann"] = ann({"static-use-ko (synthetic)": synthetic_static_vectors(args.ann_synth)}, queries,
                             args.doc_queries, args.ann_backends)
        return out
    index: Path = args.index
    if args.n:
        if "build" in args.skip:
            index = args.work / "index"
        else:
            index, out["build"] = build_synthetic(args.n, args.work, args.pipeline, args.backend)
    elif args.build_log:
        out["build"] = build_from_log(args.build_log)
    if args.tile > 1:
        t = time.perf_counter()
        index = tile_index(index, args.tile, args.work)
        out["tile_s"] = round(time.perf_counter() - t, 1)
    out["index"] = {"dir": str(index), **index_facts(index)}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("inprocess", lambda: in_process(index, queries, args.repeats, 10)),
        ("service", lambda: api(index, args.clients, args.endpoints, args.duration, args.warmup, 10, args.start_timeout,
                                     args.py_spy, args.workers)),
        ("ann", lambda: ann(channel_vectors(index), queries, args.doc_queries, args.ann_backends)),
    ]
    for part, step in steps:
        if part not in args.skip:
            say(f"part {part}")
            out[part] = step()
    return out


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    load_before = os.getloadavg()
    result = {"started_utc": started, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "argv": sys.argv[1:], "matcher_threads": os.environ.get("MATCHER_THREADS"),
              "loadavg_before": [round(x, 2) for x in load_before], **run_parts(args),
              "loadavg_after": [round(x, 2) for x in os.getloadavg()],
              "seconds": round(time.perf_counter() - T0, 1)}
    if args.results:
        with args.results.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(json.dumps({k: v for k, v in result.items() if k != "ann"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
