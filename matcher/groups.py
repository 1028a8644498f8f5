"""Convergence patent groups (특허군): clusters of technologies, labelled, with stable ids across rebuilds.

Clustering: scikit-learn ``KMeans`` on the L2-normalised document vectors (for unit vectors the squared
Euclidean distance is ``2 - 2 cos``, so this is spherical k-means up to the centroid norm), ``n_init=4``,
seeded by ``random_state``. KMeans was chosen over agglomerative clustering because it is ``O(n k d)``
rather than quadratic in memory, gives centroids directly, and can be warm-started: when ``previous``
groups are given (and ``warm_start`` is on, the default) their centroids seed the new run (``n_init=1``),
so a rebuild after a small corpus change converges to nearly the same partition. When there are fewer
previous centroids than groups wanted, the rest are seeded deterministically by farthest-point selection;
when there are more, the largest previous groups are kept. Previous centroids of another dimension (a
different encoder) are ignored and the run falls back to k-means++.

Number of groups: ``n_groups`` or, when ``None``, ``round(sqrt(n / 2))`` clamped to ``2..200`` and to ``n``.

Labels: class-based TF-IDF over the analysed tokens of each group's documents::

    c-tf-idf(t, g) = tf(t, g) * log(1 + A / f(t))

with ``tf(t, g)`` the count of term ``t`` in group ``g``, ``f(t)`` its count over all groups and ``A`` the
mean number of (kept) tokens per group. Tokens shorter than 2 characters, made only of digits, starting
with ``'#'`` (character bigrams), or patent boilerplate (``BOILERPLATE``: 발명, 상기, 단계, method …) are skipped. The ``n_terms`` best terms (ties by the term itself) are the
group's ``terms``; ``label`` joins them with ``' · '``. Terms are shown as whole words: when ``surfaces`` are
given (``(token, word)`` pairs per document, e.g. from ``Analyzer.latin_surfaces``), each term that is a
stem (``batteri``) becomes the word most often written for it in the group's own documents (``battery``; ties:
the shorter), or a shorter word of the stem that begins it (``image`` for ``images``), in its most frequent
spelling (ties: lower case); other terms (Korean morphemes) are kept as they are.

Ids: without ``previous``, groups are numbered ``G001``, ``G002``, ... by size (descending), then by their
smallest member id. With ``previous``, new and old groups are paired by a Hungarian assignment
(``scipy.optimize.linear_sum_assignment``) maximising the Jaccard similarity of member id sets over the
eligible pairs — Jaccard >= 0.3, or the new group holds a strict majority of the old group's members that
are still in the corpus. Paired groups keep the old id; the others get fresh ids continuing after the largest
old ``G<number>``, in the size order above. ``groups_`` is ordered by id and ``labels_[i]`` indexes it.

Everything is deterministic for a given input and ``random_state``.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from matcher.errors import ConfigError, InputFileError, ValidationError
from matcher.files import atomic_write_json

__all__ = [
    "Group",
    "PatentGrouper",
    "load_groups",
    "save_groups",
    "stability",
    "default_n_groups",
]

#: Minimum Jaccard similarity of member sets for a new group to inherit an old id (or a majority overlap).
MATCH_JACCARD = 0.3
LABEL_SEPARATOR = " · "
FILE_FORMAT = "patent-groups"
FILE_VERSION = 1
_N_INIT = 4
_UNIT_TOLERANCE = 1e-3
_ID_PATTERN = re.compile(r"^G(\d+)$")


@dataclass(frozen=True, slots=True)
class Group:
    """One patent group. ``centroid`` is the unit-normalised mean of the members' vectors."""

    id: str
    label: str
    terms: tuple[str, ...]
    members: tuple[str, ...]
    institutions: tuple[str, ...]
    size: int
    convergence: bool
    centroid: tuple[float, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError(f"field 'id' must be a non-empty string, got {self.id!r}", field="id")
        for name in ("terms", "members", "institutions", "centroid"):
            if not isinstance(getattr(self, name), tuple):
                raise ValidationError(
                    f"field {name!r} must be a tuple, got {type(getattr(self, name)).__name__}", field=name
                )
        if not self.members:
            raise ValidationError(f"group {self.id!r} has no members", field="members")
        if self.size != len(self.members):
            raise ValidationError(
                f"group {self.id!r}: size {self.size} does not match its {len(self.members)} members",
                field="size",
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping (tuples become lists)."""
        return {
            "id": self.id,
            "label": self.label,
            "terms": list(self.terms),
            "members": list(self.members),
            "institutions": list(self.institutions),
            "size": self.size,
            "convergence": self.convergence,
            "centroid": [float(x) for x in self.centroid],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Inverse of :meth:`to_dict`; unknown or missing fields raise :class:`ValidationError`."""
        if not isinstance(data, dict):
            raise ValidationError(f"a group must be a JSON object, got {type(data).__name__}", field="group")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValidationError(
                f"unknown field(s) {unknown} for Group; valid fields: {names}", field=unknown[0]
            )
        missing = [n for n in names if n not in data]
        if missing:
            raise ValidationError(
                f"missing field(s) {missing} for Group; required: {names}", field=missing[0]
            )
        kwargs: dict[str, Any] = dict(data)
        for name in ("terms", "members", "institutions"):
            if not isinstance(data[name], list) or not all(isinstance(v, str) for v in data[name]):
                raise ValidationError(
                    f"field {name!r} must be a list of strings, got {data[name]!r}", field=name
                )
            kwargs[name] = tuple(data[name])
        centroid = data["centroid"]
        if not isinstance(centroid, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in centroid
        ):
            raise ValidationError("field 'centroid' must be a list of numbers", field="centroid")
        kwargs["centroid"] = tuple(float(v) for v in centroid)
        return cls(**kwargs)


def default_n_groups(n: int) -> int:
    """``round(sqrt(n / 2))`` clamped to 2..200, and never more than ``n``."""
    return max(1, min(n, max(2, min(200, round(math.sqrt(n / 2))))))


#: patent boilerplate that says nothing about a group's subject (Korean claim language, English stems)
BOILERPLATE = frozenset({
    "발명", "관하다", "상기", "단계", "포함", "장치", "방법", "시스템", "제공", "이용", "하다", "되다", "있다",
    "구성", "특징", "본원", "일실시예", "실시예", "수단", "따르다", "위하다", "가지다", "대하다", "통하다", "보다",
    "invent", "method", "system", "devic", "apparatus", "compris", "includ", "provid", "present", "use",
})


def _keep_token(token: str) -> bool:
    return len(token) >= 2 and not token.startswith("#") and not token.isdigit() and token not in BOILERPLATE


def _format_id(number: int) -> str:
    return f"G{number:03d}"


class PatentGrouper:
    """Clusters technologies into labelled groups with stable ids (see the module docstring).

    Parameters
    ----------
    n_groups: number of groups, or ``None`` for ``round(sqrt(n / 2))`` clamped to 2..200.
    random_state: seed of KMeans.
    n_terms: label terms per group.
    min_institutions: distinct institutions for a group to count as a convergence group.
    warm_start: seed KMeans with the centroids of ``previous`` groups when they are given.

    Attributes (after :meth:`fit`)
    ------------------------------
    groups_: the groups, ordered by id.
    labels_: ``labels_[i]`` is the index in ``groups_`` of document ``i``.
    n_groups_: the number of groups used.
    """

    def __init__(
        self,
        n_groups: int | None = None,
        random_state: int = 0,
        n_terms: int = 5,
        min_institutions: int = 2,
        warm_start: bool = True,
    ) -> None:
        self.n_groups = n_groups
        self.random_state = random_state
        self.n_terms = n_terms
        self.min_institutions = min_institutions
        self.warm_start = warm_start

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        def positive_int(name: str, value: object) -> None:
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")

        if self.n_groups is not None:
            positive_int("n_groups", self.n_groups)
        positive_int("n_terms", self.n_terms)
        positive_int("min_institutions", self.min_institutions)
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int | np.integer):
            raise ConfigError(f"random_state must be an integer, got {self.random_state!r}")
        if not isinstance(self.warm_start, bool):
            raise ConfigError(f"warm_start must be True or False, got {self.warm_start!r}")

    @staticmethod
    def _check_inputs(
        vectors: np.ndarray,
        tokens: Sequence[Sequence[str]],
        institutions: Sequence[Sequence[str]],
        ids: Sequence[str],
    ) -> np.ndarray:
        x = np.asarray(vectors)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValidationError(
                f"vectors must be a non-empty 2-D array (n, d), got shape {x.shape}", field="vectors"
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise ValidationError(f"vectors must be floating point, got dtype {x.dtype}", field="vectors")
        x = x.astype(np.float32, copy=False)
        if not np.all(np.isfinite(x)):
            raise ValidationError("vectors contain NaN or infinite values", field="vectors")
        norms = np.linalg.norm(x, axis=1)
        bad = np.flatnonzero(np.abs(norms - 1.0) > _UNIT_TOLERANCE)
        if bad.size:
            raise ValidationError(
                f"vectors must be L2-normalised; row {int(bad[0])} has norm {float(norms[bad[0]]):.4f}",
                field="vectors",
            )
        n = x.shape[0]
        for name, seq in (("tokens", tokens), ("institutions", institutions), ("ids", ids)):
            if len(seq) != n:
                raise ValidationError(
                    f"{name} has {len(seq)} entries but vectors has {n} rows; they must match", field=name
                )
        for i, doc_id in enumerate(ids):
            if not isinstance(doc_id, str) or not doc_id:
                raise ValidationError(f"ids[{i}] must be a non-empty string, got {doc_id!r}", field="ids")
        if len(set(ids)) != n:
            dup = next(k for k, c in Counter(ids).items() if c > 1)
            raise ValidationError(f"ids must be unique; {dup!r} occurs more than once", field="ids")
        for name, seq in (("tokens", tokens), ("institutions", institutions)):
            for i, entry in enumerate(seq):
                if isinstance(entry, str) or not all(isinstance(t, str) for t in entry):
                    raise ValidationError(
                        f"{name}[{i}] must be a sequence of strings, got {entry!r}", field=name
                    )
        return x

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        vectors: np.ndarray,
        tokens: Sequence[Sequence[str]],
        institutions: Sequence[Sequence[str]],
        ids: Sequence[str],
        previous: Sequence[Group] | None = None,
        surfaces: Sequence[Sequence[tuple[str, str]]] | None = None,
    ) -> Self:
        """Cluster, label and name the groups; ``previous`` groups lend their ids (and centroids);
        ``surfaces[i]`` (``(token, word)`` pairs of document ``i``) turn stemmed label terms into words."""
        self._check_params()
        x = self._check_inputs(vectors, tokens, institutions, ids)
        if surfaces is not None and len(surfaces) != x.shape[0]:
            raise ValidationError(
                f"surfaces has {len(surfaces)} entries but vectors has {x.shape[0]} rows; they must match",
                field="surfaces",
            )
        n = x.shape[0]
        k = default_n_groups(n) if self.n_groups is None else int(self.n_groups)
        if k > n:
            raise ValidationError(
                f"n_groups={k} is more than the {n} documents; use at most {n} or None", field="n_groups"
            )
        prev = list(previous) if previous is not None else []
        if previous is not None and not all(isinstance(g, Group) for g in prev):
            raise ValidationError("previous must be a sequence of Group", field="previous")

        raw = self._cluster(x, k, prev)
        # Clusters KMeans left empty (possible with a warm start) are dropped.
        used = np.unique(raw)
        members_of = [np.flatnonzero(raw == c) for c in used]

        order = sorted(
            range(len(members_of)), key=lambda c: (-len(members_of[c]), min(ids[i] for i in members_of[c]))
        )
        members_of = [members_of[c] for c in order]
        member_sets = [frozenset(ids[i] for i in m) for m in members_of]
        new_ids = _assign_ids(member_sets, prev)

        terms = _ctfidf_terms([[t for i in m for t in tokens[i]] for m in members_of], int(self.n_terms))
        if surfaces is not None:
            terms = [_whole_words(ts, (p for i in m for p in surfaces[i])) for ts, m in zip(terms, members_of, strict=True)]
        groups: list[Group] = []
        for c, m in enumerate(members_of):
            insts = sorted({s for i in m for s in institutions[i] if s})
            centre = x[m].astype(np.float64).mean(axis=0)
            norm = float(np.linalg.norm(centre))
            if norm > 0:
                centre /= norm
            groups.append(
                Group(
                    id=new_ids[c],
                    label=LABEL_SEPARATOR.join(terms[c]),
                    terms=tuple(terms[c]),
                    members=tuple(sorted(ids[i] for i in m)),
                    institutions=tuple(insts),
                    size=len(m),
                    convergence=len(insts) >= int(self.min_institutions),
                    centroid=tuple(float(v) for v in centre.astype(np.float32)),
                )
            )
        by_id = sorted(range(len(groups)), key=lambda c: _id_sort_key(groups[c].id))
        labels = np.empty(n, dtype=np.int64)
        for position, c in enumerate(by_id):
            labels[members_of[c]] = position
        self.groups_: list[Group] = [groups[c] for c in by_id]
        self.labels_: np.ndarray = labels
        self.n_groups_: int = k
        return self

    def _cluster(self, x: np.ndarray, k: int, prev: list[Group]) -> np.ndarray:
        if k == 1:
            return np.zeros(x.shape[0], dtype=np.int64)
        # One BLAS thread: KMeans's Lloyd steps already run one BLAS thread per OpenMP chunk, and what is
        # left to BLAS — k-means++ seeding, a few candidates against every row, and the warm start — is
        # products too small to share: OpenBLAS's second thread spin-waits for a core. Measured on the real
        # corpus (1,824 rows, k = 30, 2 cores, bench/README.md): 0.7–12.8 s with 2 threads under load,
        # 0.24–0.29 s with 1; the same labels.
        with threadpool_limits(limits=1, user_api="blas"):
            init = self._warm_init(x, k, prev) if self.warm_start and prev else None
            if init is None:
                km = KMeans(n_clusters=k, n_init=_N_INIT, random_state=int(self.random_state))
            else:
                km = KMeans(n_clusters=k, init=init, n_init=1, random_state=int(self.random_state))
            return np.asarray(km.fit_predict(x), dtype=np.int64)

    @staticmethod
    def _warm_init(x: np.ndarray, k: int, prev: list[Group]) -> np.ndarray | None:
        d = x.shape[1]
        usable = [g for g in prev if len(g.centroid) == d]
        if not usable:
            return None
        usable.sort(key=lambda g: (-g.size, _id_sort_key(g.id)))
        centres = [np.asarray(g.centroid, dtype=np.float32) for g in usable[:k]]
        # Farthest-point seeding for the missing centres (deterministic: ties go to the lowest row).
        sq = (x.astype(np.float64) ** 2).sum(1)
        c = np.stack(centres).astype(np.float64)
        nearest = np.maximum(0.0, sq[:, None] + (c**2).sum(1)[None, :] - 2.0 * (x @ c.T)).min(axis=1)
        while len(centres) < k:
            row = int(np.argmax(nearest))
            centres.append(x[row].copy())
            nearest = np.minimum(nearest, ((x.astype(np.float64) - x[row]) ** 2).sum(1))
        return np.stack(centres).astype(np.float32)

    def fit_predict(
        self,
        vectors: np.ndarray,
        tokens: Sequence[Sequence[str]],
        institutions: Sequence[Sequence[str]],
        ids: Sequence[str],
        previous: Sequence[Group] | None = None,
    ) -> np.ndarray:
        """``fit(...)`` then ``labels_``."""
        return self.fit(vectors, tokens, institutions, ids, previous=previous).labels_


def _id_sort_key(group_id: str) -> tuple[int, int, str]:
    match = _ID_PATTERN.match(group_id)
    return (0, int(match.group(1)), group_id) if match else (1, 0, group_id)


def _kept_counts(tokens: Iterable[str]) -> Counter[str]:
    """Occurrences of the tokens :func:`_keep_token` keeps: counted first, each distinct token judged once
    (a group's 10,000s of tokens are a few thousand distinct ones)."""
    counts = Counter(tokens)
    for token in [t for t in counts if not _keep_token(t)]:
        del counts[token]
    return counts


def _ctfidf_terms(group_tokens: list[list[str]], n_terms: int) -> list[list[str]]:
    """Top ``n_terms`` terms per group by c-TF-IDF (ties broken by the term)."""
    counts = [_kept_counts(toks) for toks in group_tokens]
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    if not counts:
        return []
    mean_words = sum(total.values()) / len(counts)
    out: list[list[str]] = []
    for c in counts:
        scored = sorted(
            ((-round(tf * math.log(1.0 + mean_words / total[t]), 12), t) for t, tf in c.items()),
        )
        out.append([t for _, t in scored[:n_terms]])
    return out


def _whole_words(terms: list[str], pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Each term as the word it stands for among ``pairs`` (``(token, word)``, see :func:`_best_word`), else itself."""
    wanted = set(terms)
    forms: dict[str, Counter[str]] = {}
    for token, word in pairs:
        if token in wanted:
            forms.setdefault(token, Counter())[word] += 1
    return [_best_word(forms[t]) if t in forms else t for t in terms]


def _best_word(forms: Counter[str]) -> str:
    """The most frequent word (case-folded; ties: shorter, then alphabetical) or the shortest word that begins
    it (``image`` for ``images``), in its most frequent spelling (ties: the lower-case one, then alphabetical):
    ``SLAM`` stays upper-case, ``Battery`` at a title's start gives way to ``battery`` in the text."""
    by_word: Counter[str] = Counter()
    for form, count in forms.items():
        by_word[form.lower()] += count
    word = min(by_word, key=lambda w: (-by_word[w], len(w), w))
    word = min((w for w in by_word if word.startswith(w)), key=lambda w: (len(w), w))
    return min((f for f in forms if f.lower() == word), key=lambda f: (-forms[f], f != word, f))


def _assign_ids(member_sets: list[frozenset[str]], previous: list[Group]) -> list[str]:
    """Ids for the new groups (given in size order): inherited by Hungarian matching, else fresh."""
    result: list[str | None] = [None] * len(member_sets)
    numbers = [int(m.group(1)) for g in previous if (m := _ID_PATTERN.match(g.id))]
    next_number = max(numbers, default=0) + 1
    if previous and member_sets:
        corpus = frozenset().union(*member_sets)
        score = np.zeros((len(member_sets), len(previous)))
        for j, old in enumerate(previous):
            old_set = frozenset(old.members)
            live = old_set & corpus
            for i, new in enumerate(member_sets):
                inter = len(new & old_set)
                if not inter:
                    continue
                jaccard = inter / len(new | old_set)
                if jaccard >= MATCH_JACCARD or inter * 2 > len(live):
                    score[i, j] = jaccard
        rows, cols = linear_sum_assignment(score, maximize=True)
        for i, j in zip(rows, cols, strict=True):
            if score[i, j] > 0:
                result[i] = previous[j].id
    taken = {r for r in result if r is not None}
    for i in range(len(result)):
        if result[i] is None:
            while _format_id(next_number) in taken:
                next_number += 1
            result[i] = _format_id(next_number)
            next_number += 1
    return [r for r in result if r is not None]


def stability(old: Sequence[Group], new: Sequence[Group]) -> float:
    """Fraction of old groups whose id survives in ``new`` holding > 50 % of their still-present members.

    Members still present are the old members found in any new group. Old groups none of whose members
    remain are left out of the fraction; with nothing to compare the result is 1.0.
    """
    corpus: set[str] = set()
    for g in new:
        corpus.update(g.members)
    new_by_id = {g.id: frozenset(g.members) for g in new}
    counted = kept = 0
    for g in old:
        live = corpus.intersection(g.members)
        if not live:
            continue
        counted += 1
        members = new_by_id.get(g.id)
        if members is not None and len(members & live) * 2 > len(live):
            kept += 1
    return kept / counted if counted else 1.0


def save_groups(path: str | Path, groups: Sequence[Group]) -> None:
    """Write ``groups`` as JSON (UTF-8), atomically (temporary file then rename)."""
    payload = {"format": FILE_FORMAT, "version": FILE_VERSION, "groups": [g.to_dict() for g in groups]}
    atomic_write_json(path, payload, indent=1)


def load_groups(path: str | Path) -> list[Group]:
    """Read groups written by :func:`save_groups`."""
    source = Path(path)
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputFileError(source, "file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(source, f"not a readable JSON file ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
        raise InputFileError(
            source, f"not a {FILE_FORMAT!r} file (expected a JSON object with format={FILE_FORMAT!r})"
        )
    if payload.get("version") != FILE_VERSION:
        raise InputFileError(
            source, f"unsupported version {payload.get('version')!r}; supported versions: [{FILE_VERSION}]"
        )
    items = payload.get("groups")
    if not isinstance(items, list):
        raise InputFileError(source, "'groups' must be a list")
    return [Group.from_dict(item) for item in items]
