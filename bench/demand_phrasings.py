"""Benchmark: demands as officers write them — split accuracy and recovery per phrasing family.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/demand_phrasings.py [--n 40] [--seed 0] [--json]
        [--index /work/scratch/real/index] [--demo-index var/demo/index] [--split-only]
        [--families dev|heldout|all] [--examples 3]

Method
------
* Real corpus: the index at ``--index`` (default ``/work/scratch/real/index``, built from
  ``../shared/data/kipris-plus-xml`` + ``kipris-inu/inu_patents_dev.csv`` with the default pipeline), loaded
  once with ``IndexStore(dir).load()`` (encoders from the manifest). Only ACTIVE records are targets
  (legal status not 소멸/거절/취하/포기), grouped by their first institution.
* A demand is a composite of 2 or 3 patents (size uniform) of pairwise disjoint institution sets, sampled
  with ``random.Random(seed + family number)`` (as in ``bench/bundle_recovery.py``), rendered by the
  family's generator into one free text (``DemandProfile(text=...)``; the matcher splits it itself).
* Each target is named by its Korean title, or (family ``keyphrase`` and, drawn per demand, the framing
  families) by a KEY PHRASE: a contiguous run of 2-4 content nouns of the title (Kiwi NNG/NNP/SL/SH, two
  syllables or more, generic words such as 방법/장치/시스템/제조방법 dropped), drawn with the same rng.
* Korean particles follow the name's last sound: Hangul batchim, or for a Latin / digit ending its Korean
  reading (``SLAM과``, ``BMS와``, ``PD-L1과``).
* DEV families (tuned on) and HELD-OUT families (written before tuning, never looked at while tuning:
  other framing sentences, connectors and list styles) are reported separately.
* Measures per family: ``split`` = the facet count equals the number of targets AND facet k holds at
  least 60 % of target k's name key words (Kiwi nouns, lower-cased) and more of them than of any other
  target's; ``match@5`` = every target id is in the top 5 of ``DemandMatcher.match``; ``bundle`` = the
  best bundle (``DemandMatcher.bundles(top_n=5).bundles[0].members``) holds every target.
* Hand-written set: ``corpora/demo/demands-handwritten.jsonl`` (illustrative) against the demo index
  (``--demo-index``, built from ``corpora/demo`` if absent): ``split`` = facet count equals the number
  of requirements; ``match@5`` = every requirement has an acceptable id in the match top 5; ``bundle`` =
  every requirement has an acceptable id in the best bundle.

Only public calls are used: ``DemandMatcher(version).match(demand, top_k)`` and ``.bundles(demand,
top_n)``. Progress goes to stderr; the data is read at run time and nothing of it is written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REAL_INDEX = Path("/work/scratch/real/index")
DEMO_INDEX = REPO / "var" / "demo" / "index"
HANDWRITTEN = REPO / "corpora" / "demo" / "demands-handwritten.jsonl"
DEAD = frozenset("소멸 거절 취하 포기 lapsed refused withdrawn abandoned".split())
GENERIC = frozenset(
    "방법 장치 시스템 제조 제조방법 방식 이용 사용 포함 기반 용도 구조 모듈 단계 공정 형성 구비 기술 "
    "방안 처리 수단 부재 그 이 상기 및 위한 대한 통한 관한 의한 가능 구성 적용 개선 제공 복수 이의 "
    "프로그램 매체 기록 컴퓨터 판독".split()
)
_NOUN_TAGS = frozenset({"NNG", "NNP", "SL", "SH"})


# ---------------------------------------------------------------------------------------- rendering
def _batchim(word: str) -> bool:
    """Whether the Korean reading of ``word``'s last character ends in a consonant."""
    w = word.strip().rstrip(")]}\"'")
    ch = w[-1:] if w else ""
    if "가" <= ch <= "힣":
        return (ord(ch) - 0xAC00) % 28 != 0
    if ch.isdigit():
        return ch in "013678"  # 영 일 삼 육 칠 팔
    if ch.isalpha() and ch.isascii():
        if w[-2:].isupper() or len(w) == 1 or not w[-2:-1].isalpha():  # an acronym: letter names
            return ch.upper() in "LMNR"  # 엘 엠 엔 알
        return ch.lower() in "lmnrk" or w.lower().endswith("ng")
    return False


def josa(word: str, pair: str) -> str:
    """``word`` + the right form of a particle pair ``"과/와"``, ``"을/를"``, ``"이/가"``, ``"은/는"``."""
    with_b, without = pair.split("/")
    return word + (with_b if _batchim(word) else without)


def key_nouns(text: str) -> list[str]:
    from matcher.text.tokenize import kiwi

    out: list[str] = []
    for tok in kiwi().tokenize(text):
        form = tok.form.lower()
        if tok.tag in _NOUN_TAGS and (len(form) >= 2 or tok.tag == "SH") and form not in GENERIC and form not in out:
            out.append(form)
    return out


def key_phrase(title: str, rng: random.Random) -> str:
    """2-4 content nouns of a title, in title order (the title itself when it has fewer than two)."""
    from matcher.text.tokenize import kiwi

    nouns: list[str] = []
    for tok in kiwi().tokenize(title):
        if tok.tag in _NOUN_TAGS and len(tok.form) >= 2 and tok.form.lower() not in GENERIC and tok.form not in nouns:
            nouns.append(tok.form)
    if len(nouns) < 2:
        return title
    k = rng.randint(2, min(4, len(nouns)))
    start = rng.randint(0, len(nouns) - k)  # a contiguous run reads like a phrase an officer would write
    return " ".join(nouns[start : start + k])


def _ko_list(names: list[str], last: str) -> str:
    """``A, B{last}C`` style helper: all but the last joined by commas."""
    return ", ".join(names[:-1]) + last + names[-1]


Render = Callable[[list[str], random.Random], str]


def _wa(names: list[str], rng: random.Random) -> str:
    if len(names) == 2:
        return f"{josa(names[0], '과/와')} {names[1]}"
    return f"{josa(names[0], '과/와')} {josa(names[1], '과/와')} {names[2]}"


def _mit(names: list[str], rng: random.Random) -> str:
    return _ko_list(names, " 및 ")


def _geurigo(names: list[str], rng: random.Random) -> str:
    return " 그리고 ".join(names)


def _hago(names: list[str], rng: random.Random) -> str:
    return " ".join(n + "하고" for n in names[:-1]) + " " + names[-1]


def _commas(names: list[str], rng: random.Random) -> str:
    return ", ".join(names)


def _semicolons(names: list[str], rng: random.Random) -> str:
    return "; ".join(names)


def _english_and(names: list[str], rng: random.Random) -> str:
    return " and ".join(names) if len(names) == 2 else f"{names[0]}, {names[1]} and {names[2]}"


def _numbered(names: list[str], rng: random.Random) -> str:
    style = rng.choice(("{i}. ", "{i}) "))
    return "\n".join(style.format(i=i + 1) + n for i, n in enumerate(names))


def _bulleted(names: list[str], rng: random.Random) -> str:
    mark = rng.choice(("- ", "• ", "* "))
    return "\n".join(mark + n for n in names)


def _keyphrase(names: list[str], rng: random.Random) -> str:
    return rng.choice((_wa, _mit, _commas))(names, rng)


_KO_FRAMES: tuple[Callable[[str], str], ...] = (
    lambda x: f"{josa(x, '이/가')} 필요합니다.",
    lambda x: f"{x} 기술이 필요합니다",
    lambda x: f"{josa(x, '을/를')} 찾고 있습니다.",
    lambda x: f"당사는 {x} 관련 기술을 찾고 있습니다.",
)
_EN_FRAMES: tuple[Callable[[str], str], ...] = (
    lambda x: f"We need {x}.",
    lambda x: f"We are looking for a technology for {x}.",
    lambda x: f"Our company needs {x}.",
)


def _ko_framing(names: list[str], rng: random.Random) -> str:
    return rng.choice(_KO_FRAMES)(rng.choice((_wa, _mit))(names, rng))


def _en_framing(names: list[str], rng: random.Random) -> str:
    return rng.choice(_EN_FRAMES)(_english_and(names, rng))


# held-out: written before tuning; other framing sentences, connectors and list styles
_HO_KO_FRAMES: tuple[Callable[[list[str]], str], ...] = (
    lambda n: f"{josa(n[0], '이랑/랑')} {' '.join(n[1:])} 쪽 기술을 보유한 기관이 있을까요?"
    if len(n) == 2 else f"{josa(n[0], '이랑/랑')} {josa(n[1], '이랑/랑')} {n[2]} 쪽 기술을 보유한 기관이 있을까요?",
    lambda n: f"{_ko_list(n, ' 및 ')} 관련 특허의 기술이전을 희망합니다.",
    lambda n: f"저희 회사는 신제품 개발을 위해 {josa(_ko_list(n, ', '), '을/를')} 확보하려고 합니다.",
    lambda n: f"{josa(n[0], '과/와')} 함께 " + " ".join(josa(x, '도/도') for x in n[1:]) + " 검토 중입니다.",
)
_HO_EN_FRAMES: tuple[Callable[[list[str]], str], ...] = (
    lambda n: f"Our company is interested in licensing {', '.join(n[:-1])} as well as {n[-1]}.",
    lambda n: f"Could you recommend patents on {' and '.join(n)}?",
    lambda n: f"Seeking a partner with technologies in {_english_and(n, random.Random(0))}, please.",
)


def _ho_ko_framing(names: list[str], rng: random.Random) -> str:
    return rng.choice(_HO_KO_FRAMES)(names)


def _ho_en_framing(names: list[str], rng: random.Random) -> str:
    return rng.choice(_HO_EN_FRAMES)(names)


def _ho_lists(names: list[str], rng: random.Random) -> str:
    style = rng.choice(("(가) ", "(1) ", "lead", "circled"))
    if style == "lead":
        return "필요 기술 목록:\n" + "\n".join(names)
    if style == "circled":
        return " ".join(chr(0x2460 + i) + " " + n for i, n in enumerate(names))
    if style == "(가) ":
        return "\n".join(f"{'가나다'[i]}) {n}" for i, n in enumerate(names))
    return "\n".join(f"({i + 1}) {n}" for i, n in enumerate(names))


def _ho_connectors(names: list[str], rng: random.Random) -> str:
    style = rng.choice(("dot", "plus", "ppun", "oe"))
    if style == "dot":
        return " · ".join(names)
    if style == "plus":
        return " + ".join(names)
    if style == "ppun":
        return f"{names[0]}뿐만 아니라 " + ", ".join(josa(x, '도/도') for x in names[1:]) + " 필요합니다"
    return f"{names[0]} 외에 " + " 및 ".join(names[1:]) + "에 대한 기술도 원합니다"


#: family name → (set, renderer, how targets are named: "title" | "key" | "either")
FAMILIES: dict[str, tuple[str, Render, str]] = {
    "wa_gwa": ("dev", _wa, "title"),
    "mit": ("dev", _mit, "title"),
    "geurigo": ("dev", _geurigo, "title"),
    "hago": ("dev", _hago, "title"),
    "commas": ("dev", _commas, "title"),
    "semicolons": ("dev", _semicolons, "title"),
    "english_and": ("dev", _english_and, "title"),
    "numbered": ("dev", _numbered, "title"),
    "bulleted": ("dev", _bulleted, "title"),
    "keyphrase": ("dev", _keyphrase, "key"),
    "ko_framing": ("dev", _ko_framing, "either"),
    "en_framing": ("dev", _en_framing, "either"),
    "ho_ko_framing": ("heldout", _ho_ko_framing, "either"),
    "ho_en_framing": ("heldout", _ho_en_framing, "either"),
    "ho_lists": ("heldout", _ho_lists, "either"),
    "ho_connectors": ("heldout", _ho_connectors, "either"),
}


# ---------------------------------------------------------------------------------------- sampling
def _active(t: Any) -> bool:
    active = getattr(t, "active", None)
    if isinstance(active, bool):
        return active
    return (t.legal_status or "").strip().lower() not in DEAD


def sample(groups: dict[str, list], rng: random.Random) -> list:
    """2–3 patents of institutions with nothing in common (the bundle benchmark's sampler)."""
    return _bundle_recovery().sample(groups, rng, need_en=False)


def _bundle_recovery() -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bundle_recovery

    return bundle_recovery


def split_ok(facets: list[str], keys: list[list[str]]) -> bool:
    if len(facets) != len(keys):
        return False
    for k, facet in enumerate(facets):
        words = set(key_nouns(facet))
        shares = [len(words & set(kw)) / max(1, len(kw)) for kw in keys]
        if shares[k] < 0.6 or any(shares[j] >= shares[k] for j in range(len(keys)) if j != k):
            return False
    return True


# ---------------------------------------------------------------------------------------- runs
def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_family(name: str, number: int, args: argparse.Namespace, groups: dict[str, list],
               matcher: Any, split: Callable[[str], list[str]]) -> dict[str, Any]:
    from matcher.records import DemandProfile

    kind, render, naming = FAMILIES[name]
    rng = random.Random(args.seed * 1000 + number)
    n_split = n_match = n_bundle = 0
    examples: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for _ in range(args.n):
        members = sample(groups, rng)
        use_key = naming == "key" or (naming == "either" and rng.random() < 0.5)
        names = [key_phrase(t.title, rng) if use_key else t.title.strip() for t in members]
        text = render(names, rng)
        keys = [key_nouns(x) for x in names]
        facets = split(text)
        ok_split = split_ok(facets, keys)
        n_split += ok_split
        ok_match = ok_bundle = None
        if matcher is not None:
            targets = {t.id for t in members}
            demand = DemandProfile(text=text)
            _reqs, matches = matcher.match(demand, 5)
            ok_match = targets <= {m.technology.id for m in matches[:5]}
            bundles = matcher.bundles(demand, top_n=5).bundles
            ok_bundle = bool(bundles) and targets <= set(bundles[0].members)
            n_match += ok_match
            n_bundle += ok_bundle
        if (not ok_split or ok_match is False or ok_bundle is False) and len(examples) < args.examples:
            examples.append({"text": text, "facets": facets, "split": ok_split, "match@5": ok_match,
                             "bundle": ok_bundle, "targets": [t.id for t in members]})
    n = args.n
    out: dict[str, Any] = {"set": kind, "n": n, "split": round(n_split / n, 3)}
    if matcher is not None:
        out["match@5"] = round(n_match / n, 3)
        out["bundle"] = round(n_bundle / n, 3)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    if examples:
        out["examples"] = examples
    _log(f"{name}: {json.dumps({k: v for k, v in out.items() if k != 'examples'})}")
    return out


def run_handwritten(args: argparse.Namespace, split: Callable[[str], list[str]]) -> dict[str, Any]:
    from matcher.matching.demand import DemandMatcher
    from matcher.records import DemandProfile
    from matcher.store import IndexStore

    rows = [json.loads(line) for line in HANDWRITTEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    matcher = None
    if not args.split_only:
        index = Path(args.demo_index)
        if not (index / "CURRENT").exists():
            _log(f"building the demo index into {index}")
            corpus = index.parent / "corpus"
            for cmd in (["ingest", "corpora/demo", "--spec", "corpora/demo/sources.toml", "--out", str(corpus), "--quiet"],
                        ["build", "--corpus", str(corpus), "--index", str(index), "--quiet"]):
                subprocess.run([sys.executable, "-m", "service.cli", *cmd], cwd=REPO, check=True)
        matcher = DemandMatcher(IndexStore(index).load())
    n_split = n_match = n_bundle = 0
    misses = []
    for row in rows:
        expected = [set(ids) for ids in row["expected"]]
        facets = split(row["text"])
        ok_split = len(facets) == len(expected)
        n_split += ok_split
        ok_match = ok_bundle = None
        if matcher is not None:
            demand = DemandProfile(text=row["text"])
            _reqs, matches = matcher.match(demand, 5)
            top = {m.technology.id for m in matches[:5]}
            ok_match = all(ids & top for ids in expected)
            bundles = matcher.bundles(demand, top_n=5).bundles
            best = set(bundles[0].members) if bundles else set()
            ok_bundle = all(ids & best for ids in expected)
            n_match += ok_match
            n_bundle += ok_bundle
        if not ok_split or ok_match is False or ok_bundle is False:
            misses.append({"id": row["id"], "facets": facets, "split": ok_split, "match@5": ok_match,
                           "bundle": ok_bundle})
    n = len(rows)
    out: dict[str, Any] = {"n": n, "split": round(n_split / n, 3)}
    if matcher is not None:
        out["match@5"] = round(n_match / n, 3)
        out["bundle"] = round(n_bundle / n, 3)
    out["misses"] = misses
    _log(f"handwritten: {json.dumps({k: v for k, v in out.items() if k != 'misses'})}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=40, help="demands per family (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index", default=str(REAL_INDEX), help="real-corpus index directory")
    parser.add_argument("--demo-index", default=str(DEMO_INDEX), help="demo index directory (built if absent)")
    parser.add_argument("--families", choices=("dev", "heldout", "all", "none"), default="all")
    parser.add_argument("--only", choices=sorted(FAMILIES), action="append", help="run only these families")
    parser.add_argument("--split-only", action="store_true", help="split accuracy only (no index queries)")
    parser.add_argument("--no-handwritten", action="store_true")
    parser.add_argument("--examples", type=int, default=0, help="failed demands kept per family")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from matcher.matching.demand import DemandMatcher
    from matcher.matching.facets import split_requirements
    from matcher.store import IndexStore

    t0 = time.perf_counter()
    if args.families == "none":  # the hand-written set alone: the real index is not needed
        report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
                  "handwritten": run_handwritten(args, split_requirements)}
        report["seconds"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else json.dumps(report["handwritten"], ensure_ascii=False))
        return
    index = Path(args.index)
    if not (index / "CURRENT").exists():
        raise SystemExit(f"no index at {index} (CURRENT missing); build it first (see docs/quality.md)")
    store = IndexStore(index)
    if args.split_only:  # records only: no encoders, no retriever
        from matcher.records import Technology

        path = store.current_path()
        version = None
        techs = [Technology.from_dict(json.loads(line)) for line in
                 (path / "technologies.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        version = store.load()
        path = version.path
        techs = version.technologies
    groups: dict[str, list] = defaultdict(list)
    for t in techs:
        if t.institutions and _active(t):
            groups[t.institutions[0]].append(t)
    matcher = None if version is None else DemandMatcher(version)
    _log(f"index loaded: {len(techs)} records, {sum(map(len, groups.values()))} active in {len(groups)} groups "
         f"({time.perf_counter() - t0:.1f} s)")
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "index": str(path),
        "corpus_size": len(techs),
        "n_per_family": args.n,
        "seed": args.seed,
        "families": {},
    }
    for number, (name, (kind, _r, _n)) in enumerate(FAMILIES.items()):
        if (name in args.only) if args.only else args.families in (kind, "all"):
            report["families"][name] = run_family(name, number, args, groups, matcher, split_requirements)
    for kind in ("dev", "heldout"):
        rows = [r for r in report["families"].values() if r["set"] == kind]
        if rows:
            report[f"{kind}_mean"] = {m: round(sum(r[m] for r in rows) / len(rows), 3)
                                      for m in ("split", "match@5", "bundle") if m in rows[0]}
    if not args.no_handwritten and HANDWRITTEN.exists():
        report["handwritten"] = run_handwritten(args, split_requirements)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    print(f"{'family':16} {'set':8} {'n':>4} {'split':>6} {'match@5':>8} {'bundle':>7}")
    for name, r in report["families"].items():
        print(f"{name:16} {r['set']:8} {r['n']:>4} {r['split']:>6} {r.get('match@5', '-')!s:>8} {r.get('bundle', '-')!s:>7}")
    if "handwritten" in report:
        r = report["handwritten"]
        print(f"{'handwritten':16} {'demo':8} {r['n']:>4} {r['split']:>6} {r.get('match@5', '-')!s:>8} {r.get('bundle', '-')!s:>7}")


if __name__ == "__main__":
    main()
