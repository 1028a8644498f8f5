"""Fit the relevance calibration (``models/calibration.json``) on the dev sets and measure it.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/calibrate.py [--json] [--write] [--reuse]

Dev sets in ``../shared/data``: ``ko-evals-dev/ko-title`` (route ko), ``ko-evals-dev/ko-xling`` (route
en-ko), SciFact *train* (route en-en; the corpus is subsampled to the judged documents plus a fixed random
1,500 others, seed 13, so a cold run embeds about 2,400 abstracts instead of 5,183). Retrievers use the
default pipeline (``models/pipelines.toml``) and the embedding cache ``/work/scratch/calib-cache.sqlite``.

Pairs per query: its judged relevant documents (positives, wherever ranked), the top-10 non-relevant
(hard negatives), 3 random documents (easy negatives), and the same query as a "no-answer" query (its
relevant documents removed from the allowed mask) whose top-10 are negatives. Queries are split 50/50
by a fixed seed: candidate models (feature sets × per-route / pooled; each fitted on the pairs, then its
probability scale refitted per route on the top-10 lists users are shown) are fitted on one half and scored
on the other (reliability table, ECE, Brier, AUC per route), also on small 60-document corpora built from
held-out queries (the corpus-size shift) and on the top-10 lists a user is shown. Off-topic queries
(SciFact claims and English sentences against the Korean corpus, Korean sentences written here about
topics absent from it) give the top-1 relevance of "no good match" queries; 120 held-out queries per set
inside a request sentence ("... 기술이 필요합니다", "We are looking for ...") check demands as officers
write them (reported, not used for fitting or choosing). ``--write`` refits the chosen
model on all queries and writes ``models/calibration.json``. Progress goes to stderr; ``--reuse`` reads the
feature rows of a previous run from ``/work/scratch/calib-rows.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CACHE = Path("/work/scratch/calib-cache.sqlite")
ROWS = Path("/work/scratch/calib-rows.jsonl")
SEED = 13
SCIFACT_OTHERS = 1500
EASY = 3
HARD = 10
SMALL_DOCS = 60
SMALL_QUERIES = 30
SMALL_REPEATS = 3
FRAMED = 120
FRAMES_KO = ["{} 기술이 필요합니다", "저희 회사는 {} 관련 기술을 찾고 있습니다", "{}에 관한 특허를 도입하고 싶습니다"]
FRAMES_EN = ["We are looking for {}", "Our company needs a licence for {}", "{}: is there a patent we could license?"]

# Demands an officer might type about topics the INU / KIPRIS corpus does not cover (their key terms
# occur in none of its 1,824 abstracts). Written for this benchmark.
OFFTOPIC_KO = [
    "조선소 선박 용접 자동화",
    "철도 차량 신호 제어 시스템의 유지보수 기술을 찾습니다",
    "제빵 공장의 발효 공정 자동화 설비",
    "천연 향수 조향 및 향료 배합 기술이 필요합니다",
    "피아노 건반 조율 자동화 장치",
    "원양 어선 어획물 선별 및 냉동 보관 기술",
    "조선소 블록 도장 작업 로봇",
    "골프공 딤플 설계로 비거리를 늘리는 기술",
    "립스틱 색조 배합과 발색 유지 기술",
    "와인 숙성용 오크통 관리 기술",
    "장례식장 운영 관리 서비스 플랫폼",
    "프로 축구 선수 이적료 산정 방법",
    "웨딩드레스 재단 및 봉제 자동화",
    "가죽 구두 밑창 접착 공정 개선",
    "요트 선체 복합소재 성형 기술",
    "양봉 꿀벌 사육 관리 및 꿀 채취 장치",
]
# The same kind, in English (against the Korean corpus: route en-ko; against SciFact: route en-en).
OFFTOPIC_EN = [
    "shipyard welding automation for hull blocks",
    "railway signalling maintenance system for rolling stock",
    "bakery dough fermentation line automation",
    "perfume fragrance blending formulation",
    "automatic piano key tuning device",
    "golf ball dimple design for longer carry distance",
    "lipstick colour blending with long-lasting pigment",
    "oak barrel management for wine ageing",
    "transfer fee valuation of professional football players",
    "wedding dress cutting and sewing automation",
    "leather shoe sole bonding process",
    "yacht hull composite moulding",
]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- data
def load_sets() -> dict[str, Any]:
    from matcher.evaluation.beir import load_beir

    sets = {
        "ko-title": load_beir(DATA / "ko-evals-dev" / "ko-title", "test"),
        "ko-xling": load_beir(DATA / "ko-evals-dev" / "ko-xling", "test"),
        "scifact": load_beir(DATA / "scifact", "train"),
    }
    return sets


def scifact_subsample(dataset: Any) -> list[str]:
    judged = {d for rel in dataset.qrels.values() for d in rel if d in dataset.corpus}
    others = sorted(set(dataset.corpus) - judged)
    keep = judged | set(random.Random(SEED).sample(others, min(SCIFACT_OTHERS, len(others))))
    return [d for d in dataset.corpus if d in keep]


def build(texts: Sequence[str], encoders: dict[str, Any]) -> Any:
    from matcher.retrieval.config import resolve_pipeline
    from matcher.retrieval.retriever import HybridRetriever

    return HybridRetriever(resolve_pipeline(), encoders).fit(list(texts))


def split(qids: Sequence[str], seed: int = SEED) -> dict[str, str]:
    order = sorted(qids)
    random.Random(seed).shuffle(order)
    half = len(order) // 2
    return {q: ("fit" if i < half else "held") for i, q in enumerate(order)}


# ----------------------------------------------------------------------------------------- features
def bound_variants(retriever: Any, text: str) -> dict[str, float]:
    """The query's BM25 upper bound three ways, to measure which one makes ``lexical_frac`` robust:
    ``all`` counts every analysed term (absent ones at document frequency 0), ``known`` only the terms the
    corpus holds, ``nobigram-oov`` drops absent Hangul bigrams (endings such as 합니/니다) but keeps
    absent words."""
    out = {"all": 0.0, "known": 0.0, "nobigram-oov": 0.0}
    for term, w, known in retriever.term_bounds(text):
        out["all"] += w
        if known:
            out["known"] += w
        if known or not term.startswith("#"):
            out["nobigram-oov"] += w
    return out


def query_rows(retriever: Any, doc_ids: Sequence[str], text: str, relevant: set[str], rng: random.Random,
               base: dict[str, Any]) -> list[dict[str, Any]]:
    """Training / evaluation rows of one judged query (see the module docstring)."""
    from matcher.retrieval.calibration import relevance_features

    bound = retriever.lexical_bound(text)
    bounds = bound_variants(retriever, text)
    ranked = retriever.search(text, len(doc_ids))
    rows: list[dict[str, Any]] = []

    def add(hit: Any, rank: int, kind: str, y: int) -> None:
        rows.append({**base, "kind": kind, "rank": rank, "y": y, "route": hit.components["route"],
                     "x": [round(v, 6) for v in relevance_features(hit, bound)],
                     "lex": round(hit.components["lexical"], 5), "b": bounds})

    negatives = []
    for rank, hit in enumerate(ranked, 1):
        is_rel = doc_ids[hit.position] in relevant
        if rank <= 10:
            add(hit, rank, "shown", int(is_rel))
        if is_rel:
            add(hit, rank, "pos", 1)
        elif len(negatives) < HARD:
            negatives.append(hit)
            add(hit, rank, "hard", 0)
    pool = [(r, h) for r, h in enumerate(ranked, 1) if doc_ids[h.position] not in relevant and r > 10]
    for rank, hit in rng.sample(pool, min(EASY, len(pool))):
        add(hit, rank, "easy", 0)
    mask = np.ones(len(doc_ids), dtype=bool)
    for i, d in enumerate(doc_ids):
        if d in relevant:
            mask[i] = False
    for rank, hit in enumerate(retriever.search(text, HARD, allowed=mask), 1):
        add(hit, rank, "noanswer", 0)
    return rows


def offtopic_rows(retriever: Any, texts: Sequence[str], base: dict[str, Any]) -> list[dict[str, Any]]:
    from matcher.retrieval.calibration import relevance_features

    rows = []
    for i, text in enumerate(texts):
        hit = retriever.search(text, 1)[0]
        rows.append({**base, "qid": f"off{i}", "kind": "offtopic", "rank": 1, "y": 0,
                     "route": hit.components["route"],
                     "x": [round(v, 6) for v in relevance_features(hit, retriever.lexical_bound(text))],
                     "lex": round(hit.components["lexical"], 5), "b": bound_variants(retriever, text)})
    return rows


def collect() -> list[dict[str, Any]]:
    from matcher.encoders import CachedEncoder, EmbeddingCache, load_encoder
    from matcher.evaluation.harness import document_text
    from matcher.retrieval.config import resolve_pipeline

    sets = load_sets()
    cache = EmbeddingCache(CACHE)
    encoders = {n: CachedEncoder(load_encoder(n), cache) for n in resolve_pipeline().encoders}
    rows: list[dict[str, Any]] = []
    retrievers: dict[str, tuple[Any, list[str]]] = {}
    ko_ids = list(sets["ko-title"].corpus)
    sci_ids = scifact_subsample(sets["scifact"])
    for corpus_name, ids, ds in (("ko", ko_ids, sets["ko-title"]), ("scifact", sci_ids, sets["scifact"])):
        t0 = time.perf_counter()
        log(f"building the {corpus_name} retriever over {len(ids):,} documents ...")
        retrievers[corpus_name] = (build([document_text(ds.corpus[d]) for d in ids], encoders), ids)
        log(f"  {time.perf_counter() - t0:.0f} s")
    for name, corpus_name in (("ko-title", "ko"), ("ko-xling", "ko"), ("scifact", "scifact")):
        ds = sets[name]
        retriever, ids = retrievers[corpus_name]
        halves = split(list(ds.queries))
        rng = random.Random(SEED)
        t0 = time.perf_counter()
        qids = list(ds.queries)
        in_corpus = set(ids)
        for enc in encoders.values():  # one batch per encoder
            enc.encode_queries([ds.queries[q] for q in qids])
        for n, qid in enumerate(qids, 1):
            relevant = {d for d, r in ds.qrels[qid].items() if r > 0 and d in in_corpus}
            if not relevant:
                continue
            base = {"set": name, "corpus": "full", "qid": qid, "half": halves[qid]}
            rows += query_rows(retriever, ids, ds.queries[qid], relevant, rng, base)
            if n % 100 == 0:
                log(f"  {name}: {n}/{len(qids)} queries ({time.perf_counter() - t0:.0f} s)")
        # demands as officers write them: held-out queries inside a framing sentence (shown top-10 only)
        for n, qid in enumerate(sorted(q for q in qids if halves[q] == "held")[:FRAMED]):
            relevant = {d for d, r in ds.qrels[qid].items() if r > 0 and d in in_corpus}
            frame = FRAMES_KO[n % len(FRAMES_KO)] if name == "ko-title" else FRAMES_EN[n % len(FRAMES_EN)]
            text = frame.format(ds.queries[qid])
            base = {"set": name, "corpus": "framed", "qid": qid, "half": "held"}
            rows += [r for r in query_rows(retriever, ids, text, relevant, rng, base) if r["kind"] == "shown"]
        # the corpus-size shift: small corpora of held-out queries' relevant documents + random others
        held = sorted(q for q in qids if halves[q] == "held")
        for rep in range(SMALL_REPEATS):
            srng = random.Random(SEED + 100 + rep)
            chosen = srng.sample(held, SMALL_QUERIES)
            rel = {q: {d for d, r in ds.qrels[q].items() if r > 0 and d in in_corpus} for q in chosen}
            docs = sorted({d for s in rel.values() for d in s})
            taken = set(docs)
            fill = [d for d in ids if d not in taken]
            docs += srng.sample(fill, max(0, SMALL_DOCS - len(docs)))
            small = build([document_text(ds.corpus[d]) for d in docs], encoders)
            for qid in chosen:
                base = {"set": name, "corpus": f"small{rep}", "qid": qid, "half": "held"}
                rows += query_rows(small, docs, ds.queries[qid], rel[qid], srng, base)
        log(f"  {name}: done ({time.perf_counter() - t0:.0f} s)")
    # off-topic queries: no answer exists in the corpus
    ko_ret = retrievers["ko"][0]
    sci = sets["scifact"]
    sci_halves = split(list(sci.queries))
    claims = [sci.queries[q] for q in sorted(sci.queries) if sci_halves[q] == "held"]
    claims = random.Random(SEED).sample(claims, 100)
    rows += offtopic_rows(ko_ret, claims, {"set": "offtopic:scifact-claims>ko", "corpus": "full", "half": "held"})
    rows += offtopic_rows(ko_ret, OFFTOPIC_KO, {"set": "offtopic:ko-sentences>ko", "corpus": "full", "half": "held"})
    rows += offtopic_rows(ko_ret, OFFTOPIC_EN, {"set": "offtopic:en-sentences>ko", "corpus": "full", "half": "held"})
    rows += offtopic_rows(retrievers["scifact"][0], OFFTOPIC_EN,
                          {"set": "offtopic:en-sentences>scifact", "corpus": "full", "half": "held"})
    cache.close()
    return rows


# --------------------------------------------------------------------------------------------- metrics
def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        sel = idx == b
        table.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(sel.sum()),
                      "predicted": round(float(p[sel].mean()), 3) if sel.any() else None,
                      "observed": round(float(y[sel].mean()), 3) if sel.any() else None})
    return table


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    table = reliability(p, y, bins)
    n = max(len(p), 1)
    return float(sum(r["n"] / n * abs(r["predicted"] - r["observed"]) for r in table if r["n"]))


def auc(p: np.ndarray, y: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.sum() < y.size else None


def scores(p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    a = auc(p, y)
    return {"n": int(y.size), "positives": int(y.sum()), "ece": round(ece(p, y), 4),
            "brier": round(float(np.mean((p - y) ** 2)), 4), "auc": None if a is None else round(a, 4)}


def arrays(rows: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    X = np.asarray([r["x"] for r in rows], dtype=np.float64).reshape(-1, 3)
    y = np.asarray([r["y"] for r in rows], dtype=np.int64)
    return X, y, [r["route"] for r in rows]


TRAIN_KINDS = {"pos", "hard", "easy", "noanswer"}
ABS = ("dense", "lexical_frac")
ABS_Z = ("dense", "lexical_frac", "fused_z")
CANDIDATES: dict[str, dict[str, Any]] = {
    "absolute/per-route": {"features": ABS, "per_route": True, "rescale": True},
    "absolute/per-route (pairs scale, not rescaled)": {"features": ABS, "per_route": True, "rescale": False},
    "absolute+z/per-route": {"features": ABS_Z, "per_route": True, "rescale": True},
    "absolute/pooled": {"features": ABS, "per_route": False, "rescale": True},
    "absolute+z/pooled": {"features": ABS_Z, "per_route": False, "rescale": True},
    "z-only/per-route": {"features": ("fused_z",), "per_route": True, "rescale": True},
}


def fit_candidate(params: dict[str, Any], pairs: Sequence[dict[str, Any]], shown: Sequence[dict[str, Any]]) -> Any:
    """Fit on training pairs; then (if asked) rescale per route on the top-10 lists users are shown."""
    from matcher.retrieval.calibration import Calibrator

    X, y, routes = arrays(pairs)
    model = Calibrator(params["features"], per_route=params["per_route"]).fit(X, y, routes)
    if params["rescale"]:
        Xs, ys, rs = arrays(shown)
        model.rescale(Xs, ys, rs)
    return model


def evaluate(model: Any, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Held-out scores per population and route."""
    out: dict[str, Any] = {}
    pops = {
        "pairs": [r for r in rows if r["corpus"] == "full" and r["half"] == "held" and r["kind"] in TRAIN_KINDS],
        "shown-top10": [r for r in rows if r["corpus"] == "full" and r["half"] == "held" and r["kind"] == "shown"],
        "small-60doc-pairs": [r for r in rows if r["corpus"].startswith("small") and r["kind"] in TRAIN_KINDS],
        "small-60doc-shown": [r for r in rows if r["corpus"].startswith("small") and r["kind"] == "shown"],
        "framed-shown": [r for r in rows if r["corpus"] == "framed" and r["kind"] == "shown"],
    }
    for pop, sel in pops.items():
        X, y, routes = arrays(sel)
        p = model.predict(X, routes)
        entry = {"all": scores(p, y)}
        for route in ("ko", "en-ko", "en-en"):
            mask = np.asarray([r == route for r in routes])
            if mask.any():
                entry[route] = scores(p[mask], y[mask])
        out[pop] = entry
    return out


def floor_report(model: Any, rows: Sequence[dict[str, Any]], floors: Sequence[float]) -> dict[str, Any]:
    """Top-1 relevance of off-topic and no-answer queries vs the relevance of answered queries' documents."""
    held = [r for r in rows if r["half"] == "held" and r["corpus"] == "full"]

    def rel(sel: list[dict[str, Any]]) -> np.ndarray:
        if not sel:
            return np.zeros(0)
        X, _, routes = arrays(sel)
        return model.predict(X, routes)

    groups: dict[str, np.ndarray] = {}
    for name in sorted({r["set"] for r in held if r["set"].startswith("offtopic")}):
        groups[name] = rel([r for r in held if r["set"] == name])
    for name in ("ko-title", "ko-xling", "scifact"):
        groups[f"{name}: relevant doc"] = rel([r for r in held if r["set"] == name and r["kind"] == "pos"])
        groups[f"{name}: no-answer top-1"] = rel([r for r in held if r["set"] == name and r["kind"] == "noanswer"
                                                  and r["rank"] == 1])
        top1 = [r for r in held if r["set"] == name and r["kind"] == "shown" and r["rank"] == 1]
        groups[f"{name}: top-1 when it is right"] = rel([r for r in top1 if r["y"] == 1])
        groups[f"{name}: framed, top-1 when it is right"] = rel(
            [r for r in rows if r["set"] == name and r["corpus"] == "framed" and r["kind"] == "shown"
             and r["rank"] == 1 and r["y"] == 1])
    dist = {k: {"n": int(v.size), **{f"p{q}": round(float(np.percentile(v, q)), 3) for q in (5, 25, 50, 75, 95)}}
            for k, v in groups.items() if v.size}
    sep = {}
    for f in floors:
        sep[f"{f:.2f}"] = {k: round(float((v >= f).mean() if "offtopic" not in k and "no-answer" not in k
                                          else (v < f).mean()), 3) for k, v in groups.items() if v.size}
    return {"distribution": dist, "share_on_the_right_side": sep}


# ------------------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--write", action="store_true", help="refit on all queries and write models/calibration.json")
    parser.add_argument("--reuse", action="store_true", help=f"read feature rows from {ROWS} instead of searching")
    parser.add_argument("--choose", default="", help="candidate to write (default: lowest held-out ECE+Brier)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from matcher.retrieval.calibration import RELEVANCE_FLOOR

    started = time.perf_counter()
    if args.reuse and ROWS.is_file():
        rows = [json.loads(line) for line in ROWS.read_text(encoding="utf-8").splitlines() if line]
        log(f"reusing {len(rows):,} rows from {ROWS}")
    else:
        rows = collect()
        ROWS.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        log(f"{len(rows):,} rows written to {ROWS}")
    fit_rows = [r for r in rows if r["corpus"] == "full" and r["half"] == "fit" and r["kind"] in TRAIN_KINDS]
    fit_shown = [r for r in rows if r["corpus"] == "full" and r["half"] == "fit" and r["kind"] == "shown"]
    report: dict[str, Any] = {"candidates": {}}
    models = {}
    for name, params in CANDIDATES.items():
        model = fit_candidate(params, fit_rows, fit_shown)
        models[name] = model
        report["candidates"][name] = {"coefficients": model.models_, "held_out": evaluate(model, rows)}

    def merit(name: str) -> float:
        h = report["candidates"][name]["held_out"]
        return sum(h[pop]["all"]["ece"] + h[pop]["all"]["brier"]
                   for pop in ("pairs", "shown-top10", "small-60doc-pairs", "small-60doc-shown"))  # not framed-shown

    chosen = args.choose or min(CANDIDATES, key=merit)
    report["chosen"] = chosen
    report["merit (sum of ECE+Brier over the 4 held-out populations)"] = {k: round(merit(k), 4) for k in CANDIDATES}
    best = models[chosen]
    report["reliability_held_out"] = {}
    for pop, kinds, corpus in (("pairs", TRAIN_KINDS, "full"), ("shown-top10", {"shown"}, "full")):
        sel = [r for r in rows if r["corpus"] == corpus and r["half"] == "held" and r["kind"] in kinds]
        Xh, yh, rh = arrays(sel)
        ph = best.predict(Xh, rh)
        report["reliability_held_out"][pop] = {"all": reliability(ph, yh)}
        for route in ("ko", "en-ko", "en-en"):
            m = np.asarray([r == route for r in rh])
            report["reliability_held_out"][pop][route] = reliability(ph[m], yh[m])
    report["floor"] = {"RELEVANCE_FLOOR": RELEVANCE_FLOOR,
                       **floor_report(best, rows, (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5))}
    if args.write:
        params = CANDIDATES[chosen]
        all_rows = [r for r in rows if r["corpus"] == "full" and r["kind"] in TRAIN_KINDS]
        all_shown = [r for r in rows if r["corpus"] == "full" and r["kind"] == "shown"]
        final = fit_candidate(params, all_rows, all_shown)
        counts: dict[str, int] = defaultdict(int)
        for r in all_rows:
            counts[r["set"]] += 1
        made = {
            "by": "bench/calibrate.py --write",
            "candidate": chosen,
            "data": {
                "ko-title": "ko-evals-dev/ko-title (test qrels), route ko, 1,824-document corpus",
                "ko-xling": "ko-evals-dev/ko-xling (test qrels), route en-ko, the same corpus",
                "scifact": f"SciFact train claims, route en-en, corpus = judged docs + {SCIFACT_OTHERS} random others (seed {SEED})",
            },
            "rows": dict(counts),
            "pairs": "per query: judged relevant docs (1), top-10 non-relevant (0), 3 random docs (0), "
                     "top-10 with the relevant docs masked out (0)",
            "scale": ("then Platt-rescaled per route on the top-10 lists of the same queries (label: the judged "
                      "relevant doc) when the candidate says so") if params["rescale"] else "pairs scale",
            "pipeline": "hybrid (models/pipelines.toml default)",
            "selection": "lowest held-out ECE + Brier (50/50 query split, seed 13) summed over pairs, shown top-10 "
                         "and 60-document corpora",
            "machine": f"{platform.machine()}, {platform.python_version()}",
        }
        path = final.save(REPO / "models" / "calibration.json", made=made)
        report["written"] = {"path": str(path.relative_to(REPO)), "coefficients": final.models_}
    report["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(json.dumps({k: report[k] for k in ("chosen", "merit (sum of ECE+Brier over the 4 held-out populations)")},
                         ensure_ascii=False, indent=1))
        for name, c in report["candidates"].items():
            print(name, {pop: c["held_out"][pop]["all"] for pop in c["held_out"]})
        print(json.dumps(report["floor"], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
