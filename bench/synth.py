"""Deterministic synthetic technology records for timing and memory benchmarks — never for quality claims.

    .venv/bin/python bench/synth.py --n 100000 --out /work/scratch/synth   # technologies.csv + sources.toml

Records have the demo corpus's shape (``corpora/demo/technologies.csv``: the same columns, Korean titles and
abstracts of similar length, an English title on about a third, 1–3 IPC codes, dates, legal statuses in the
proportions of the KIPRIS data: about 14 % lapsed/refused/withdrawn/abandoned) and are built from the demo's
own words, recombined with ``random.Random(seed)``: the same ``n`` and ``seed`` give byte-identical files.
:func:`perturb` changes a given share of records (abstract text or legal status) for incremental runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "corpora" / "demo" / "technologies.csv"
COLUMNS = ["id", "title", "title_en", "abstract", "applicants", "institutions", "ipc", "application_date",
           "legal_status", "trl", "confidential", "language"]
STATUSES = ["등록"] * 60 + ["공개"] * 26 + ["소멸"] * 8 + ["거절"] * 3 + ["취하"] * 2 + ["포기"]
INSTITUTIONS = [f"합성대학교{i:02d} 산학협력단" for i in range(20)] + [f"합성연구원{i:02d}" for i in range(10)]
SPEC = """# Synthetic records for timing only (bench/synth.py); same columns as the demo's technologies.
[[source]]
path = "technologies.csv"
kind = "technology"
format = "csv"
encoding = "utf-8"
list_separator = "|"

[source.columns]
""" + "".join(f'{c} = "{c}"\n' for c in COLUMNS)


def _vocabulary() -> tuple[list[str], list[str], list[str], list[str]]:
    rows = list(csv.DictReader(DEMO.open(encoding="utf-8")))
    ko = sorted({w for r in rows for w in re.findall(r"[가-힣A-Za-z0-9-]{2,}", r["title"] + " " + r["abstract"])})
    en = sorted({w.lower() for r in rows for w in re.findall(r"[A-Za-z]{3,}", r["title_en"])})
    ipc = sorted({c.strip() for r in rows for c in r["ipc"].split("|") if c.strip()})
    sentences = sorted({s.strip() for r in rows for s in re.split(r"(?<=다\.)\s+", r["abstract"]) if len(s) > 20})
    return ko, en, ipc, sentences


def records(n: int, seed: int = 0) -> list[dict[str, str]]:
    """``n`` synthetic technology rows (dicts of :data:`COLUMNS`), deterministic in ``(n, seed)``."""
    ko, en, ipc, sentences = _vocabulary()
    rng = random.Random(seed)
    out = []
    for i in range(n):
        inst = rng.choice(INSTITUTIONS)
        title = " ".join(rng.choices(ko, k=rng.randint(5, 12))) + " " + rng.choice(["방법", "장치", "시스템", "조성물"])
        abstract = " ".join(rng.choices(sentences, k=rng.randint(2, 4)))
        out.append({
            "id": f"SYN-{i:07d}", "title": title,
            "title_en": " ".join(rng.choices(en, k=rng.randint(5, 10))).capitalize() if rng.random() < 0.35 else "",
            "abstract": abstract, "applicants": inst, "institutions": inst,
            "ipc": "|".join(rng.sample(ipc, k=min(len(ipc), rng.randint(1, 3)))),
            "application_date": f"{rng.randint(2005, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "legal_status": rng.choice(STATUSES), "trl": str(rng.randint(1, 9)) if rng.random() < 0.3 else "",
            "confidential": "false", "language": "ko",
        })
    return out


def perturb(rows: list[dict[str, str]], share: float, seed: int = 1) -> list[str]:
    """Change ``share`` of ``rows`` in place (half: a sentence appended to the abstract; half: the legal
    status); the ids changed, sorted."""
    rng = random.Random(seed)
    picked = rng.sample(range(len(rows)), k=max(1, round(share * len(rows))))
    for k, i in enumerate(picked):
        if k % 2:
            rows[i]["legal_status"] = "소멸" if rows[i]["legal_status"] != "소멸" else "등록"
        else:
            rows[i]["abstract"] += f" 변경된 실시예 {seed}-{k}를 추가로 포함한다."
    return sorted(rows[i]["id"] for i in picked)


def write(rows: list[dict[str, str]], out: Path) -> Path:
    """``technologies.csv`` and its ``sources.toml`` in ``out``; the spec's path."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "technologies.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (out / "sources.toml").write_text(SPEC, encoding="utf-8")
    return out / "sources.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = records(args.n, args.seed)
    spec = write(rows, args.out)
    print(json.dumps({"records": len(rows), "spec": str(spec)}))


if __name__ == "__main__":
    main()
