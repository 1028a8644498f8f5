"""TREC run files: ``qid Q0 docid rank score tag``, readable by ranx, pytrec_eval and trec_eval."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from matcher.evaluation.metrics import ranked


def write_run(path: str | Path, run: Mapping[str, Mapping[str, float]], tag: str, depth: int = 100) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for qid in sorted(run):
            scores = run[qid]
            for rank, doc in enumerate(ranked(scores)[:depth], 1):
                fh.write(f"{qid} Q0 {doc} {rank} {scores[doc]:.6f} {tag}\n")


def read_run(path: str | Path) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 6:
                run.setdefault(parts[0], {})[parts[2]] = float(parts[4])
    return run
