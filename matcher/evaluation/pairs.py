"""Phrase-pair similarity (USPTO PPPM layout: anchor, target, context, score): Pearson of cosine vs score."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from matcher.encoders.base import Encoder
from matcher.errors import InputFileError

REQUIRED = ("anchor", "target", "score")


def load_pairs(path: str | Path) -> list[tuple[str, str, str, float]]:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputFileError(path, f"missing column(s) {missing}; found {reader.fieldnames}")
        for n, row in enumerate(reader, 1):
            try:
                rows.append((row["anchor"], row["target"], row.get("context") or "", float(row["score"])))
            except ValueError:
                raise InputFileError(path, f"row {n}: score {row['score']!r} is not a number") from None
    return rows


def pearson_of(encoder: Encoder, pairs: list[tuple[str, str, str, float]]) -> float:
    phrases = sorted({p for a, t, _, _ in pairs for p in (a, t)})
    vectors = encoder.encode_documents(phrases)
    index = {p: i for i, p in enumerate(phrases)}
    a = vectors[[index[x[0]] for x in pairs]]
    b = vectors[[index[x[1]] for x in pairs]]
    cos = np.einsum("ij,ij->i", a, b)
    gold = np.array([x[3] for x in pairs])
    return float(np.corrcoef(cos, gold)[0, 1])
