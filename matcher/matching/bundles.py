"""Convergence bundles: small sets of technologies from several institutions that jointly cover a demand.

Input is a coverage matrix ``coverage[i, j]`` in [0, 1] — how well candidate technology ``i`` covers
requirement facet ``j`` — plus the owning institutions of each candidate and, optionally, the candidates'
pairwise cosine similarity.

Score of a bundle ``S`` (diminishing returns, then penalties)::

    value(S) = sum_j w_j * min(1, 1 - prod_{i in S} (1 - c_ij))          # noisy-or per requirement
    score(S) = value(S)
               - redundancy_penalty * mean_{i<k in S} max(0, sim_ik)      # near-duplicates add little
               - size_penalty * (|S| - min_size)

A bundle is admissible when it has ``min_size``..``max_size`` members, spans at least ``min_institutions``
distinct institutions (a co-owned candidate counts each owner), and every member covers a requirement:
it is the bundle's best member (first by index on ties) for at least one requirement it covers (coverage
> 0; callers set coverage to 0 below their relevance floor). A bundle with a passenger — a member that
covers nothing, or only what another member covers better — is not returned; the same set without it is
considered on its own. Candidates with no coverage at all are never members.

Search: exact enumeration of every admissible bundle when ``sum_k C(n, k)`` over the allowed sizes is at most
``BundleConfig.exhaustive_limit`` (200,000), ``n`` being the candidates with some coverage. Otherwise a
beam search: every pair is scored, the ``beam_width`` (50) best pairs seed the beam, and each level extends
every beam state by every other candidate, keeping the best ``beam_width`` states; admissible bundles seen
at any level are pooled and the best ``top_n`` returned. Beam search is exact when the beam never drops a
state (e.g. at most 50 pairs and ``max_size == 3``).

Determinism: products and sums over members are taken over sorted values, so a score does not depend on
the order of candidates; scores are rounded to 12 decimals and ties are broken by the sorted member indices.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.errors import ConfigError, ValidationError

SEARCH_MODES = ("auto", "exhaustive", "beam")
_EPS = 1e-9
_CHUNK = 20_000
_DECIMALS = 12

Institutions = Sequence[frozenset[str] | tuple[str, ...]]


@dataclass(frozen=True)
class BundleConfig:
    """Bundle size, institution and scoring parameters (see the module docstring)."""

    min_size: int = 2
    max_size: int = 4
    min_institutions: int = 2
    top_n: int = 5
    cover_threshold: float = 0.5
    redundancy_penalty: float = 0.1
    size_penalty: float = 0.02
    beam_width: int = 50
    exhaustive_limit: int = 200_000
    search: str = "auto"

    def __post_init__(self) -> None:
        _check_int("min_size", self.min_size, 1)
        _check_int("max_size", self.max_size, self.min_size)
        _check_int("min_institutions", self.min_institutions, 1)
        _check_int("top_n", self.top_n, 1)
        _check_int("beam_width", self.beam_width, 1)
        _check_int("exhaustive_limit", self.exhaustive_limit, 0)
        if not (0.0 < float(self.cover_threshold) <= 1.0):
            raise ConfigError(
                f"cover_threshold={self.cover_threshold!r} is out of range; valid: 0 < value <= 1"
            )
        for name in ("redundancy_penalty", "size_penalty"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(
                    f"{name}={getattr(self, name)!r} is out of range; valid: a finite value >= 0"
                )
        if self.search not in SEARCH_MODES:
            raise ConfigError(f"search={self.search!r} is unknown; valid options: {', '.join(SEARCH_MODES)}")


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name}={value!r} is out of range; valid: an integer >= {minimum}")


@dataclass(frozen=True)
class Bundle:
    """One convergence bundle.

    ``members`` are candidate indices ordered by marginal contribution (largest first, ties by index);
    ``coverage`` has one ``(requirement, best member, score)`` row per requirement; ``gaps`` are the
    requirements whose best member score is below ``cover_threshold``; ``single_institution_covers`` is true
    when one institution's members of this bundle alone cover every requirement.
    """

    members: tuple[int, ...]
    institutions: tuple[str, ...]
    score: float
    coverage_value: float
    coverage: tuple[tuple[int, int, float], ...]
    gaps: tuple[int, ...]
    single_institution_covers: bool


# ---------------------------------------------------------------- validation


def _coverage(coverage: np.ndarray) -> np.ndarray:
    arr = np.asarray(coverage, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValidationError(
            f"coverage must be a 2-D (candidates × requirements) array with ≥1 requirement, got shape {arr.shape}",
            field="coverage",
        )
    if not np.all(np.isfinite(arr)) or (arr.size and (arr.min() < 0.0 or arr.max() > 1.0)):
        raise ValidationError("coverage scores must be finite and in [0, 1]", field="coverage")
    return arr


def _weights(weights: Sequence[float] | np.ndarray | None, n_req: int) -> np.ndarray:
    if weights is None:
        return np.ones(n_req, dtype=np.float64)
    arr = np.asarray(weights, dtype=np.float64)
    if arr.shape != (n_req,):
        raise ValidationError(
            f"weights must have {n_req} entries (one per requirement), got shape {arr.shape}", field="weights"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValidationError("weights must be finite and >= 0", field="weights")
    return arr


def _similarity(similarity: np.ndarray | None, n: int) -> np.ndarray | None:
    if similarity is None:
        return None
    arr = np.asarray(similarity, dtype=np.float64)
    if arr.shape != (n, n):
        raise ValidationError(f"similarity must have shape ({n}, {n}), got {arr.shape}", field="similarity")
    if not np.all(np.isfinite(arr)):
        raise ValidationError("similarity must be finite", field="similarity")
    return np.maximum(arr, 0.0)


def _owners(institutions: Institutions, n: int) -> list[frozenset[str]]:
    if len(institutions) != n:
        raise ValidationError(
            f"institutions has {len(institutions)} entries but coverage has {n} candidates",
            field="institutions",
        )
    out = []
    for i, entry in enumerate(institutions):
        owners = frozenset([entry]) if isinstance(entry, str) else frozenset(entry)
        if not all(isinstance(o, str) and o for o in owners):
            raise ValidationError(
                f"institutions[{i}]={entry!r} must hold non-empty strings", field="institutions"
            )
        out.append(owners)
    return out


# ---------------------------------------------------------------- vectorised scoring


class _Scorer:
    """Scores many bundles at once; ``combos`` is an (m, k) array of candidate indices."""

    def __init__(
        self,
        coverage: np.ndarray,
        weights: np.ndarray,
        similarity: np.ndarray | None,
        config: BundleConfig,
        owners: Sequence[frozenset[str]] | None = None,
    ) -> None:
        self.miss = 1.0 - coverage
        self.weights = weights
        self.similarity = similarity
        self.config = config
        names = sorted(set().union(*owners)) if owners else []
        column = {name: c for c, name in enumerate(names)}
        self.owned = np.zeros((coverage.shape[0], max(len(names), 1)), dtype=bool)
        for i, own in enumerate(owners or []):
            for name in own:
                self.owned[i, column[name]] = True

    def value(self, gathered: np.ndarray) -> np.ndarray:
        """Noisy-or coverage value of (m, k, R) gathered miss rates; order-independent."""
        prod = np.sort(gathered, axis=1).prod(axis=1)
        return (np.minimum(1.0, 1.0 - prod) * self.weights).sum(axis=1)

    def evaluate(self, combos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(score, all members contribute, distinct institutions) per row."""
        m, k = combos.shape
        gathered = self.miss[combos]
        value = self.value(gathered)
        # a member is needed when it is the best member (lowest miss, first on ties) of a covered requirement
        best = gathered.argmin(axis=1)                                    # (m, R): position of the best member
        covered = gathered.min(axis=1) < 1.0 - _EPS                       # (m, R): someone covers it
        contributes = np.ones(m, dtype=bool)
        for p in range(k):
            contributes &= ((best == p) & covered).any(axis=1)
        redundancy = np.zeros(m)
        if self.similarity is not None and k >= 2:
            pairs = [
                self.similarity[combos[:, a], combos[:, b]] for a, b in itertools.combinations(range(k), 2)
            ]
            redundancy = np.sort(np.stack(pairs, axis=1), axis=1).mean(axis=1)
        cfg = self.config
        score = value - cfg.redundancy_penalty * redundancy - cfg.size_penalty * (k - cfg.min_size)
        n_inst = self.owned[combos].any(axis=1).sum(axis=1)
        return np.round(score, _DECIMALS), contributes, n_inst


def bundle_score(
    members: Sequence[int],
    coverage: np.ndarray,
    similarity: np.ndarray | None = None,
    config: BundleConfig | None = None,
    weights: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Score of one bundle (noisy-or coverage minus redundancy and size penalties), rounded to 12 decimals."""
    cfg = config or BundleConfig()
    cov = _coverage(coverage)
    idx = sorted({int(i) for i in members})
    if not idx or idx[0] < 0 or idx[-1] >= cov.shape[0]:
        raise ValidationError(
            f"members {list(members)!r} must be candidate indices in 0..{cov.shape[0] - 1}", field="members"
        )
    scorer = _Scorer(cov, _weights(weights, cov.shape[1]), _similarity(similarity, cov.shape[0]), cfg)
    return float(scorer.evaluate(np.array([idx]))[0][0])


# ---------------------------------------------------------------- search


def _chunks(items: Sequence[int], k: int) -> Iterator[np.ndarray]:
    combos = itertools.combinations(items, k)
    while True:
        block = list(itertools.islice(combos, _CHUNK))
        if not block:
            return
        yield np.array(block, dtype=np.int64)


class _Pool:
    """The best ``top_n`` admissible bundles seen so far, by (-score, members)."""

    def __init__(self, top_n: int) -> None:
        self.top_n = top_n
        self.items: list[tuple[float, tuple[int, ...]]] = []

    def add(self, combos: np.ndarray, scores: np.ndarray) -> None:
        if len(scores) > self.top_n:  # keep everything tied with the top_n-th score
            cut = np.partition(-scores, self.top_n - 1)[self.top_n - 1]
            keep = -scores <= cut
            combos, scores = combos[keep], scores[keep]
        self.items.extend((-float(s), tuple(int(i) for i in c)) for s, c in zip(scores, combos, strict=True))
        self.items = sorted(set(self.items))[: self.top_n]


def _admissible(k: int, contributes: np.ndarray, n_inst: np.ndarray, cfg: BundleConfig) -> np.ndarray:
    return contributes & (n_inst >= cfg.min_institutions) & (k >= cfg.min_size)


def _exhaustive(useful: list[int], scorer: _Scorer, cfg: BundleConfig, pool: _Pool) -> None:
    for k in range(cfg.min_size, min(cfg.max_size, len(useful)) + 1):
        for combos in _chunks(useful, k):
            scores, contributes, n_inst = scorer.evaluate(combos)
            ok = _admissible(k, contributes, n_inst, cfg)
            pool.add(combos[ok], scores[ok])


def _best_states(combos: np.ndarray, scores: np.ndarray, width: int) -> np.ndarray:
    order = sorted(range(len(scores)), key=lambda r: (-scores[r], tuple(combos[r])))
    return combos[order[:width]]


def _beam(useful: list[int], scorer: _Scorer, cfg: BundleConfig, pool: _Pool) -> None:
    states: np.ndarray | None = None
    if cfg.min_size <= 1:
        singles = np.array([[i] for i in useful], dtype=np.int64).reshape(-1, 1)
        scores, contributes, n_inst = scorer.evaluate(singles)
        ok = _admissible(1, contributes, n_inst, cfg)
        pool.add(singles[ok], scores[ok])
    for k in range(2, min(cfg.max_size, len(useful)) + 1):
        if states is None:
            level = np.concatenate(list(_chunks(useful, 2)))
        else:
            grown = {tuple(sorted((*s, int(c)))) for s in states.tolist() for c in useful if c not in s}
            if not grown:
                return
            level = np.array(sorted(grown), dtype=np.int64)
        kept_c, kept_s = [], []
        for start in range(0, len(level), _CHUNK):
            combos = level[start : start + _CHUNK]
            scores, contributes, n_inst = scorer.evaluate(combos)
            ok = _admissible(k, contributes, n_inst, cfg)
            pool.add(combos[ok], scores[ok])
            # a passenger member stays a passenger in every superset (noisy-or is submodular): prune it
            kept_c.append(combos[contributes])
            kept_s.append(scores[contributes])
        combos_all, scores_all = np.concatenate(kept_c), np.concatenate(kept_s)
        if len(scores_all) == 0:
            return
        states = _best_states(combos_all, scores_all, cfg.beam_width)


def _search_size(n: int, cfg: BundleConfig) -> int:
    return sum(math.comb(n, k) for k in range(cfg.min_size, min(cfg.max_size, n) + 1))


def select_bundles(
    coverage: np.ndarray,
    institutions: Institutions,
    similarity: np.ndarray | None = None,
    config: BundleConfig | None = None,
    weights: Sequence[float] | np.ndarray | None = None,
) -> list[Bundle]:
    """The ``top_n`` admissible bundles, best first (ties by sorted member indices); ``[]`` when none."""
    cfg = config or BundleConfig()
    cov = _coverage(coverage)
    n = cov.shape[0]
    owners = _owners(institutions, n)
    w = _weights(weights, cov.shape[1])
    scorer = _Scorer(cov, w, _similarity(similarity, n), cfg, owners)
    useful = [i for i in range(n) if float(cov[i] @ w) > 0.0]
    pool = _Pool(cfg.top_n)
    exhaustive = cfg.search == "exhaustive" or (
        cfg.search == "auto" and _search_size(len(useful), cfg) <= cfg.exhaustive_limit
    )
    (_exhaustive if exhaustive else _beam)(useful, scorer, cfg, pool)
    return [_describe(members, -neg, cov, scorer, owners, cfg) for neg, members in pool.items]


def _describe(
    members: tuple[int, ...],
    score: float,
    cov: np.ndarray,
    scorer: _Scorer,
    owners: Sequence[frozenset[str]],
    cfg: BundleConfig,
) -> Bundle:
    gathered = scorer.miss[np.array([members])]
    value = float(scorer.value(gathered)[0])
    gain = {m: value - float(scorer.value(np.delete(gathered, p, axis=1))[0]) for p, m in enumerate(members)}
    ordered = tuple(sorted(members, key=lambda m: (-round(gain[m], _DECIMALS), m)))
    table = []
    for j in range(cov.shape[1]):
        best = min(members, key=lambda m: (-cov[m, j], m))
        table.append((j, best, float(cov[best, j])))
    union = sorted(set().union(*(owners[m] for m in members)))
    single = any(
        bool(np.all(cov[[m for m in members if name in owners[m]]].max(axis=0) >= cfg.cover_threshold))
        for name in union
    )
    return Bundle(
        members=ordered,
        institutions=tuple(union),
        score=score,
        coverage_value=round(value, _DECIMALS),
        coverage=tuple(table),
        gaps=tuple(j for j, _, s in table if s < cfg.cover_threshold),
        single_institution_covers=single,
    )


def single_institution_cover(
    coverage: np.ndarray,
    institutions: Institutions,
    config: BundleConfig | None = None,
    weights: Sequence[float] | np.ndarray | None = None,
) -> str | None:
    """An institution whose own candidates reach ``cover_threshold`` on every requirement, else ``None``.

    When several do, the one with the highest weighted sum of best scores wins (ties by name).
    """
    cfg = config or BundleConfig()
    cov = _coverage(coverage)
    owners = _owners(institutions, cov.shape[0])
    w = _weights(weights, cov.shape[1])
    best: tuple[float, str] | None = None
    for name in sorted(set().union(*owners)) if owners else []:
        rows = cov[[i for i, own in enumerate(owners) if name in own]]
        top = rows.max(axis=0)
        if np.all(top >= cfg.cover_threshold):
            key = (-round(float(top @ w), _DECIMALS), name)
            best = key if best is None or key < best else best
    return None if best is None else best[1]
