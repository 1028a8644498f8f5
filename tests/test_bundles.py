"""Convergence-bundle selection against a brute force written here, plus the rules and validation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from matcher.errors import ConfigError, ValidationError
from matcher.matching.bundles import (
    Bundle,
    BundleConfig,
    bundle_score,
    select_bundles,
    single_institution_cover,
)

INSTS = ("KAIST", "KIST", "POSTECH", "SNU")


def toy(seed: int, n: int = 9, r: int = 4):
    """Random coverage with zeros and saturated 1.0 entries (so some members add nothing)."""
    rng = np.random.default_rng(seed)
    cov = rng.random((n, r)) * (rng.random((n, r)) < 0.55)
    cov[rng.random((n, r)) < 0.06] = 1.0
    owners = []
    for _ in range(n):
        first = INSTS[rng.integers(len(INSTS))]
        second = INSTS[rng.integers(len(INSTS))] if rng.random() < 0.2 else first
        owners.append(frozenset({first, second}))
    emb = rng.normal(size=(n, 6))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    weights = rng.choice([0.5, 1.0, 2.0], size=r)
    return cov, owners, emb @ emb.T, weights


def brute_value(members, cov, w):
    total = 0.0
    for j in range(cov.shape[1]):
        miss = math.prod(1.0 - cov[i, j] for i in members)
        total += w[j] * min(1.0, 1.0 - miss)
    return total


def needed(i, members, cov):
    """A member covers a requirement where it is the bundle's best member (first by index on ties)."""
    for j in range(cov.shape[1]):
        best = min(members, key=lambda m: (-cov[m, j], m))
        if best == i and cov[i, j] > 0:
            return True
    return False


def brute_force(cov, owners, sim, cfg, w):
    found = []
    for k in range(cfg.min_size, cfg.max_size + 1):
        for members in itertools.combinations(range(cov.shape[0]), k):
            if len(set().union(*(owners[i] for i in members))) < cfg.min_institutions:
                continue
            value = brute_value(members, cov, w)
            if not all(needed(i, members, cov) for i in members):
                continue
            pairs = list(itertools.combinations(members, 2))
            redundancy = sum(max(0.0, sim[a, b]) for a, b in pairs) / len(pairs)
            score = value - cfg.redundancy_penalty * redundancy - cfg.size_penalty * (k - cfg.min_size)
            found.append((-score, members))
    found.sort()
    return [(members, -neg) for neg, members in found[: cfg.top_n]]


@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force(seed):
    cov, owners, sim, w = toy(seed, n=8 + seed % 3, r=3 + seed % 2)
    cfg = BundleConfig(top_n=6)
    got = select_bundles(cov, owners, sim, cfg, w)
    want = brute_force(cov, owners, sim, cfg, w)
    assert [tuple(sorted(b.members)) for b in got] == [m for m, _ in want]
    for b, (_, score) in zip(got, want, strict=True):
        assert b.score == pytest.approx(score, abs=1e-9)
        assert b.score == bundle_score(b.members, cov, sim, cfg, w)
        assert len(b.institutions) >= 2 and list(b.institutions) == sorted(b.institutions)


def test_brute_force_exercises_the_passenger_rule():
    cov = np.array([[1.0, 0.0], [0.0, 0.9], [0.4, 0.0]])
    owners = [("A",), ("B",), ("C",)]
    got = select_bundles(cov, owners, config=BundleConfig(top_n=10))
    assert [tuple(sorted(b.members)) for b in got] == [(0, 1), (1, 2)]  # 2 adds nothing next to 0


def test_one_institution_bundle_is_never_returned():
    # KAIST's two candidates together are the best bundle, but span one institution
    cov = np.array([[1.0, 0.9, 0.0], [0.0, 0.1, 1.0], [0.6, 0.0, 0.0], [0.0, 0.15, 0.0], [0.0, 0.0, 0.4]])
    owners = [("KAIST",), ("KAIST",), ("KIST",), ("SNU",), ("SNU",)]
    anyone = select_bundles(cov, owners, config=BundleConfig(min_institutions=1, top_n=10))
    assert anyone[0].members == (0, 1) or tuple(sorted(anyone[0].members)) == (0, 1)
    got = select_bundles(cov, owners, config=BundleConfig(top_n=50))
    assert got and all(len(b.institutions) >= 2 for b in got)
    assert (0, 1) not in {tuple(sorted(b.members)) for b in got}
    assert got[0].score < anyone[0].score
    assert single_institution_cover(cov, owners) == "KAIST"


def test_co_owned_candidate_counts_both_institutions_but_needs_two_members():
    cov = np.array([[0.9, 0.0], [0.0, 0.9]])
    owners = [frozenset({"KAIST", "KIST"}), frozenset({"KAIST"})]
    got = select_bundles(cov, owners)
    assert [b.members for b in got] == [(0, 1)] and got[0].institutions == ("KAIST", "KIST")
    assert select_bundles(cov[:1], owners[:1]) == []  # one candidate: no bundle at all


def test_gaps_coverage_table_and_member_order():
    cov = np.array([[0.9, 0.2, 0.0], [0.1, 0.45, 0.0], [0.0, 0.0, 0.3]])
    owners = [("A",), ("B",), ("C",)]
    best = select_bundles(cov, owners, config=BundleConfig(size_penalty=0.0))[0]
    assert isinstance(best, Bundle)
    assert sorted(best.members) == [0, 1, 2] and best.members[0] == 0  # largest contribution first
    assert best.coverage == ((0, 0, 0.9), (1, 1, 0.45), (2, 2, 0.3))
    assert best.gaps == (1, 2)
    assert best.single_institution_covers is False
    assert best.coverage_value == pytest.approx(brute_value([0, 1, 2], cov, [1, 1, 1]))


def test_single_institution_flag_and_detection():
    cov = np.array([[0.8, 0.7], [0.3, 0.0], [0.0, 0.6]])
    owners = [("KAIST",), ("KIST",), ("SNU",)]
    assert single_institution_cover(cov, owners) == "KAIST"
    flagged = {tuple(sorted(b.members)): b.single_institution_covers for b in select_bundles(cov, owners)}
    # (0, 2) would pad KAIST's full cover with SNU's weaker member: refused, no passenger members
    assert (0, 2) not in flagged and flagged.get((1, 2)) is False
    assert single_institution_cover(cov[1:], owners[1:]) is None
    # two institutions each cover everything: the higher total wins
    cov2 = np.array([[0.6, 0.6], [0.9, 0.9]])
    assert single_institution_cover(cov2, [("A",), ("B",)]) == "B"
    assert single_institution_cover(cov2, [("A",), ("B",)], BundleConfig(cover_threshold=0.95)) is None


@pytest.mark.parametrize("seed", range(3))
def test_deterministic_and_independent_of_candidate_order(seed):
    cov, owners, sim, w = toy(100 + seed, n=10, r=4)
    first = select_bundles(cov, owners, sim, weights=w)
    assert first == select_bundles(cov, owners, sim, weights=w)
    perm = np.random.default_rng(seed).permutation(len(cov))
    shuffled = select_bundles(cov[perm], [owners[i] for i in perm], sim[np.ix_(perm, perm)], weights=w)
    assert [tuple(int(perm[m]) for m in b.members) for b in shuffled] == [b.members for b in first]
    assert [b.score for b in shuffled] == [b.score for b in first]


@pytest.mark.parametrize("seed", range(4))
def test_beam_matches_exhaustive_when_beam_keeps_every_pair(seed):
    cov, owners, sim, w = toy(200 + seed, n=10, r=4)  # 45 pairs <= beam width 50, sizes up to 3
    exact = select_bundles(cov, owners, sim, BundleConfig(max_size=3, top_n=8, search="exhaustive"), w)
    beam = select_bundles(cov, owners, sim, BundleConfig(max_size=3, top_n=8, search="beam"), w)
    assert beam == exact and exact


def test_auto_switches_to_beam_above_the_limit():
    cov, owners, sim, w = toy(7, n=10, r=4)
    auto = select_bundles(cov, owners, sim, BundleConfig(max_size=3, exhaustive_limit=10), w)
    assert auto == select_bundles(cov, owners, sim, BundleConfig(max_size=3, search="beam"), w)


def test_beam_search_handles_a_larger_pool():
    rng = np.random.default_rng(3)
    cov = rng.random((80, 5)) ** 4
    owners = [(f"inst{i % 9}",) for i in range(80)]
    got = select_bundles(cov, owners)  # C(80,2..4) > 200,000: beam search
    assert len(got) == 5 and len({b.members for b in got}) == 5
    assert [b.score for b in got] == sorted((b.score for b in got), reverse=True)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"min_size": 0}, "min_size"),
        ({"max_size": 0}, "max_size"),
        ({"min_size": 3, "max_size": 2}, "max_size"),
        ({"min_institutions": 0}, "min_institutions"),
        ({"top_n": 0}, "top_n"),
        ({"cover_threshold": 0.0}, "cover_threshold"),
        ({"cover_threshold": 1.5}, "cover_threshold"),
        ({"redundancy_penalty": -0.1}, "redundancy_penalty"),
        ({"size_penalty": float("nan")}, "size_penalty"),
        ({"beam_width": 0}, "beam_width"),
        ({"search": "greedy"}, "search"),
    ],
)
def test_config_validation(kwargs, name):
    with pytest.raises(ConfigError) as err:
        BundleConfig(**kwargs)
    assert name in str(err.value) and "valid" in str(err.value)


def test_input_validation():
    cov = np.array([[0.5, 0.2], [0.1, 0.9]])
    owners = [("A",), ("B",)]
    cases = [
        (lambda: select_bundles(np.array([0.5, 0.2]), owners), "coverage"),
        (lambda: select_bundles(cov * 2, owners), "coverage"),
        (lambda: select_bundles(cov, owners[:1]), "institutions"),
        (lambda: select_bundles(cov, [("A",), ("",)]), "institutions"),
        (lambda: select_bundles(cov, owners, similarity=np.eye(3)), "similarity"),
        (lambda: select_bundles(cov, owners, weights=[1.0]), "weights"),
        (lambda: select_bundles(cov, owners, weights=[1.0, -1.0]), "weights"),
        (lambda: bundle_score([0, 5], cov), "members"),
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field


def test_bundle_score_penalties():
    cov = np.array([[0.5, 0.0], [0.0, 0.5], [0.5, 0.5]])
    sim = np.array([[1.0, 0.4, -0.2], [0.4, 1.0, 0.0], [-0.2, 0.0, 1.0]])
    cfg = BundleConfig(redundancy_penalty=0.5, size_penalty=0.1)
    assert bundle_score([0, 1], cov, sim, cfg) == pytest.approx(1.0 - 0.5 * 0.4)
    # negative similarity is not a bonus; one extra member costs size_penalty
    expected = (0.75 + 0.75) - 0.5 * (0.4 + 0.0 + 0.0) / 3 - 0.1
    assert bundle_score([2, 1, 0], cov, sim, cfg) == pytest.approx(expected)
