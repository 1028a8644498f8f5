"""Read a BEIR-layout directory: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from matcher.errors import InputFileError
from matcher.files import iter_jsonl


@dataclass(frozen=True)
class BeirDataset:
    path: Path
    corpus: dict[str, dict[str, str]]   # doc id → {"title", "text"}
    queries: dict[str, str]             # query id → text (only queries that have judgements)
    qrels: dict[str, dict[str, int]]    # query id → {doc id: relevance}


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise InputFileError(path, "missing (a BEIR directory holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv)")
    rows = []
    for n, row in iter_jsonl(path):
        if not isinstance(row, dict) or "_id" not in row:
            raise InputFileError(path, f"line {n}: an object with an '_id' field is expected")
        rows.append(row)
    return rows


def load_beir(path: str | Path, split: str = "test") -> BeirDataset:
    path = Path(path)
    if not path.is_dir():
        raise InputFileError(path, "not a directory")
    qrels_path = path / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        found = sorted(p.stem for p in (path / "qrels").glob("*.tsv")) if (path / "qrels").is_dir() else []
        raise InputFileError(qrels_path, f"missing; splits found: {', '.join(found) or '(none)'}")
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for n, row in enumerate(reader, 1):
            if n == 1 and row and row[0] == "query-id":
                continue
            if len(row) < 3:
                raise InputFileError(qrels_path, f"line {n}: expected 'query-id corpus-id score', got {row!r}")
            try:
                qrels.setdefault(row[0], {})[row[1]] = int(float(row[2]))
            except ValueError:
                raise InputFileError(qrels_path, f"line {n}: score {row[2]!r} is not a number") from None
    corpus = {
        str(r["_id"]): {"title": str(r.get("title") or ""), "text": str(r.get("text") or "")}
        for r in _jsonl(path / "corpus.jsonl")
    }
    all_queries = {str(r["_id"]): str(r.get("text") or "") for r in _jsonl(path / "queries.jsonl")}
    missing = sorted(set(qrels) - set(all_queries))
    if missing:
        raise InputFileError(qrels_path, f"{len(missing)} judged queries are not in queries.jsonl, e.g. {missing[0]!r}")
    queries = {q: all_queries[q] for q in qrels}
    return BeirDataset(path=path, corpus=corpus, queries=queries, qrels=qrels)
