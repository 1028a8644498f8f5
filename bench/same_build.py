"""Check: two checkouts build the same index version (a speed change must not change what is built).

    .venv/bin/python bench/same_build.py BASE_CHECKOUT NEW_CHECKOUT [--corpus demo|real|DIR ...] [--pipeline NAME]
                                         [--work DIR] [--json]

Each corpus (``demo``: ``corpora/demo`` ingested with its ``sources.toml``; ``real``: the KIPRIS data in
``../shared/data`` ingested as ``bench/ingest_build.py`` does; or a corpus directory) is ingested once, then
built cold by each checkout in its own process (``PYTHONPATH=<checkout> python -m matcher.cli build``, a fresh
index directory and a fresh ``--cache`` file each), and the two published versions are compared file by file:

* ``.npy`` arrays: same dtype, shape and bytes (vectors bit-equal, BM25 arrays equal);
* JSON lines and JSON files: equal after parsing; in ``manifest.json`` only timestamps, durations, paths
  and the library versions may differ (``created_at``, ``corpus_dir``, ``seconds`` …: see ``_VOLATILE``);
* any other file: equal bytes.

Prints one line per corpus (files compared, differences with their first detail) and exits 1 when any
version differs. Nothing of the corpora is written inside the checkouts (``--work``: default a temporary
directory). The builds' wall times are printed too, but they are single runs: time with ``ingest_build.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
#: manifest keys whose values depend on when and where a build ran, not on what it built
_VOLATILE = frozenset({"version", "created_at", "activated_at", "corpus_dir", "seconds", "path", "libraries",
                       "duration", "built_by", "host"})


def _ingest(name: str, out: Path) -> Path:
    """Corpus ``name`` (``demo``, ``real`` or a corpus directory) as a corpus directory under ``out``."""
    if name not in ("demo", "real"):
        path = Path(name)
        if not (path / "technologies.jsonl").is_file():
            raise SystemExit(f"not a corpus directory (no technologies.jsonl): {name!r}")
        return path
    from matcher.ingest import ingest_paths, write_corpus

    target = out / f"corpus-{name}"
    if name == "demo":
        demo = ROOT / "corpora" / "demo"
        result = ingest_paths([demo], spec=demo / "sources.toml")
    else:
        sources = [SHARED / "kipris-plus-xml", SHARED / "kipris-inu" / "inu_patents_dev.csv"]
        missing = [str(p) for p in sources if not p.exists()]
        if missing:
            raise SystemExit(f"real data absent: {missing}")
        result = ingest_paths(sources)
    write_corpus(target, result)
    return target


def _build(checkout: Path, corpus: Path, index: Path, pipeline: str | None) -> float:
    """A cold build of ``corpus`` into ``index`` by ``checkout``'s code (its own process); its wall seconds."""
    command = [sys.executable, "-m", "matcher.cli", "build", "--corpus", str(corpus), "--index", str(index),
               "--cache", str(index.parent / f"{index.name}.cache.sqlite")]
    if pipeline:
        command += ["--pipeline", pipeline]
    env = {**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"build by {checkout} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def _version(index: Path) -> Path:
    return index / "versions" / (index / "CURRENT").read_text().strip()


def _strip(value: Any) -> Any:
    """``value`` without the keys of :data:`_VOLATILE`, at any depth."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _first_difference(a: Any, b: Any, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}/{key}: only in {'new' if key in b else 'base'}"
            if a[key] != b[key]:
                return _first_difference(a[key], b[key], f"{where}/{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    return f"{where}: {str(a)[:120]!r} != {str(b)[:120]!r}"


def _compare_arrays(x: np.ndarray, y: np.ndarray) -> str | None:
    if x.dtype != y.dtype or x.shape != y.shape:
        return f"{x.dtype}{x.shape} != {y.dtype}{y.shape}"
    if x.tobytes() != y.tobytes():
        diff = np.abs(x.astype(np.float64) - y.astype(np.float64)) if x.dtype.kind in "fiu" else None
        return "bytes differ" + (f" (max abs diff {diff.max():.3g})" if diff is not None and diff.size else "")
    return None


def _compare_file(a: Path, b: Path) -> str | None:
    """``None`` when the two files hold the same content, else what differs."""
    if a.suffix == ".npy":
        return _compare_arrays(np.load(a, allow_pickle=False), np.load(b, allow_pickle=False))
    if a.suffix == ".npz":
        with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
            if sorted(x.files) != sorted(y.files):
                return f"arrays {sorted(x.files)} != {sorted(y.files)}"
            return next((f"{k}: {d}" for k in sorted(x.files) if (d := _compare_arrays(x[k], y[k])) is not None), None)
    if a.suffix == ".jsonl":
        rows_a = [json.loads(line) for line in a.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows_b = [json.loads(line) for line in b.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(rows_a) != len(rows_b):
            return f"{len(rows_a)} rows != {len(rows_b)} rows"
        return next((_first_difference(x, y, f"row {i}") for i, (x, y) in enumerate(zip(rows_a, rows_b, strict=True))
                     if x != y), None)
    if a.suffix == ".json":
        x, y = json.loads(a.read_text(encoding="utf-8")), json.loads(b.read_text(encoding="utf-8"))
        if a.name == "manifest.json":
            x, y = _strip(x), _strip(y)
        return None if x == y else _first_difference(x, y)
    return None if a.read_bytes() == b.read_bytes() else "bytes differ"


def compare_versions(base: Path, new: Path) -> tuple[int, dict[str, str]]:
    """(files compared, differences by relative path) between two published version directories."""
    files_a = {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}
    files_b = {p.relative_to(new).as_posix() for p in new.rglob("*") if p.is_file()}
    differences = {name: "only in base" for name in files_a - files_b}
    differences.update({name: "only in new" for name in files_b - files_a})
    for name in sorted(files_a & files_b):
        found = _compare_file(base / name, new / name)
        if found is not None:
            differences[name] = found
    return len(files_a | files_b), differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="checkout whose build is the reference (e.g. /work/main)")
    parser.add_argument("new", type=Path, help="checkout with the change")
    parser.add_argument("--corpus", action="append", help="demo | real | a corpus directory (repeat; default both)")
    parser.add_argument("--pipeline", help="pipeline name (default: the configured default)")
    parser.add_argument("--work", type=Path, help="where corpora and indexes go (default: a temporary directory)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in args.corpus or ["demo", "real"]:
            corpus = _ingest(name, work)
            label = Path(name).name
            seconds = {side: _build(checkout, corpus, work / f"index-{label}-{side}", args.pipeline)
                       for side, checkout in (("base", args.base), ("new", args.new))}
            count, differences = compare_versions(_version(work / f"index-{label}-base"),
                                                  _version(work / f"index-{label}-new"))
            failed = failed or bool(differences)
            out = {"corpus": name, "files": count, "same": not differences, "differences": differences,
                   "build_s": {k: round(v, 2) for k, v in seconds.items()}}
            if args.json:
                print(json.dumps(out, ensure_ascii=False))
            else:
                verdict = "same" if not differences else f"{len(differences)} file(s) differ"
                print(f"{name}: {count} files, {verdict}; builds {out['build_s']}")
                for path, what in sorted(differences.items()):
                    print(f"  {path}: {what}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
