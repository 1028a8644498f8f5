"""Documents/s of one encoder (default the static one) vs another (default USE v3's float pass) on the same texts, in one process (2,000 by default).

Texts: the real corpus's document texts (``../shared/data/kipris-plus-xml`` + ``kipris-inu/inu_patents_dev.csv``,
as ``matcher build`` embeds them), then their titles, up to ``--n``. Also the agreement of the two
encoders' neighbourhoods on those texts (mean cosine of the student's and the teacher's similarity rows is
not meaningful across spaces, so: the share of each text's teacher top-10 found in the student's top 10).

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/static_speed.py --json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from matcher.encoders import load_encoder
from matcher.ingest import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--static", default="static-use-ko")
    ap.add_argument("--teacher", default="use-m3-fp32", help="the reference encoder (default: USE v3, the float pass)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = ingest_paths([DATA / "kipris-plus-xml", DATA / "kipris-inu" / "inu_patents_dev.csv"])
    techs = result.technologies
    texts = ([t.text for t in techs] + [t.title for t in techs])[: args.n]
    out: dict[str, object] = {"texts": len(texts), "mean_chars": round(float(np.mean([len(t) for t in texts])), 1)}
    vectors = {}
    for name in (args.static, args.teacher):
        t0 = time.perf_counter()
        enc = load_encoder(name)
        loaded = time.perf_counter() - t0
        enc.encode_documents(texts[:8])  # warm-up (lazy weights)
        t0 = time.perf_counter()
        vectors[name] = enc.encode_documents(texts)
        seconds = time.perf_counter() - t0
        out[name] = {"load_s": round(loaded, 2), "encode_s": round(seconds, 2),
                     "docs_per_s": round(len(texts) / seconds, 1)}
    s, t = vectors[args.static], vectors[args.teacher]
    k = 10
    st, tt = s @ s.T, t @ t.T
    np.fill_diagonal(st, -np.inf)
    np.fill_diagonal(tt, -np.inf)
    top_s = np.argpartition(-st, k, axis=1)[:, :k]
    top_t = np.argpartition(-tt, k, axis=1)[:, :k]
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(top_s, top_t, strict=True)])
    out["teacher_top10_in_student_top10"] = round(float(overlap), 3)
    out["speedup"] = round(out[args.static]["docs_per_s"] / out[args.teacher]["docs_per_s"], 1)  # type: ignore[index]
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
