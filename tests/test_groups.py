"""Patent groups: cluster recovery, c-TF-IDF labels, convergence, stable ids, JSON, validation, real data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matcher.errors import ConfigError, InputFileError, ValidationError
from matcher.groups import (
    Group,
    PatentGrouper,
    default_n_groups,
    load_groups,
    save_groups,
    stability,
)
from tests.conftest import shared_path

VOCAB = [
    ["robot", "slam", "lidar", "odometry", "gripper"],
    ["배터리", "충전", "전극", "양극재", "전해질"],
    ["antibody", "protein", "assay", "epitope", "vaccine"],
    ["반도체", "웨이퍼", "식각", "증착", "노광"],
    ["solar", "perovskite", "photovoltaic", "inverter", "module"],
    ["유전체", "염기서열", "변이", "시퀀싱", "진단"],
]
COMMON = ["data", "unit", "모듈", "제어"]  # generic, not boilerplate-filtered
INSTS = ["KAIST", "KIST", "POSTECH", "SNU", "ETRI", "UNIST"]
PER = 30


def synthetic(seed: int = 7, d: int = 32):
    """6 well-separated clusters of unit vectors with cluster-specific tokens and institutions.

    Cluster 0 is owned by a single institution (not a convergence group); the others by two or three.
    """
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.normal(size=(d, d)))[0][: len(VOCAB)]
    vectors, tokens, insts, ids, truth = [], [], [], [], []
    for c, words in enumerate(VOCAB):
        owners = (
            ["KAIST"] if c == 0 else INSTS[c % 6 : c % 6 + 1] + INSTS[(c + 2) % 6 : (c + 2) % 6 + (c % 2) + 1]
        )
        for j in range(PER):
            v = centres[c] + 0.15 * rng.normal(size=d)
            vectors.append(v / np.linalg.norm(v))
            toks = list(rng.choice(words, size=6)) + list(rng.choice(COMMON, size=3))
            toks += ["#" + words[0][:2], "1", "23", "x"]  # bigram, digits, 1-char: never labels
            tokens.append(toks)
            insts.append([owners[j % len(owners)]])
            ids.append(f"KR{c:02d}{j:04d}")
            truth.append(c)
    order = rng.permutation(len(ids))  # interleave clusters
    x = np.asarray(vectors, dtype=np.float32)[order]
    return (
        x,
        [tokens[i] for i in order],
        [insts[i] for i in order],
        [ids[i] for i in order],
        np.asarray(truth)[order],
    )


@pytest.fixture(scope="module")
def data():
    return synthetic()


@pytest.fixture(scope="module")
def fitted(data):
    x, toks, insts, ids, _ = data
    return PatentGrouper(n_groups=6).fit(x, toks, insts, ids)


def test_recovers_clusters(data, fitted):
    *_, truth = data
    labels = fitted.labels_
    assert len(fitted.groups_) == 6
    for c in range(6):
        assert len(set(labels[truth == c])) == 1
    assert len(set(labels)) == 6
    for position, g in enumerate(fitted.groups_):
        assert g.size == len(g.members) == PER
        assert sorted(np.asarray(data[3])[labels == position]) == list(g.members)
        assert abs(np.linalg.norm(g.centroid) - 1.0) < 1e-5
    assert [g.id for g in fitted.groups_] == [f"G{i:03d}" for i in range(1, 7)]


def test_labels_are_distinctive_terms(data, fitted):
    x, toks, insts, ids, truth = data
    for g in fitted.groups_:
        cluster = int(truth[ids.index(g.members[0])])
        assert len(g.terms) == 5
        assert set(g.terms) == set(VOCAB[cluster])
        assert g.label == " · ".join(g.terms)
        assert not any(t.startswith("#") or t.isdigit() or len(t) < 2 for t in g.terms)
        assert "#" not in g.label


def test_n_terms_and_common_words_rank_low(data):
    x, toks, insts, ids, _ = data
    g = PatentGrouper(n_groups=6, n_terms=7).fit(x, toks, insts, ids).groups_[0]
    assert len(g.terms) == 7
    assert set(g.terms[:5]) <= {w for words in VOCAB for w in words}
    assert set(g.terms[5:]) <= set(COMMON)


def test_convergence_flag(data, fitted):
    x, toks, insts, ids, truth = data
    for g in fitted.groups_:
        cluster = int(truth[ids.index(g.members[0])])
        expected = {s for i, t in enumerate(truth) if t == cluster for s in insts[i]}
        assert list(g.institutions) == sorted(expected)
        assert g.convergence == (len(expected) >= 2)
        assert g.convergence == (cluster != 0)
    strict = PatentGrouper(n_groups=6, min_institutions=3).fit(x, toks, insts, ids)
    assert sum(g.convergence for g in strict.groups_) == sum(len(g.institutions) >= 3 for g in strict.groups_)


def test_deterministic(data):
    x, toks, insts, ids, _ = data
    a = PatentGrouper(n_groups=6, random_state=3).fit(x, toks, insts, ids)
    b = PatentGrouper(n_groups=6, random_state=3).fit(x, toks, insts, ids)
    assert a.groups_ == b.groups_
    assert np.array_equal(a.labels_, b.labels_)
    c = PatentGrouper().fit(x, toks, insts, ids)
    d = PatentGrouper().fit(x, toks, insts, ids)
    assert c.groups_ == d.groups_ and c.n_groups_ == default_n_groups(len(ids))


def test_ids_by_size_then_smallest_member():
    x, toks, insts, ids, truth = synthetic()
    keep = np.flatnonzero((truth != 4) | (np.arange(len(ids)) % 3 == 0))  # cluster 4 shrinks to ~10
    sub = PatentGrouper(n_groups=6).fit(
        x[keep], [toks[i] for i in keep], [insts[i] for i in keep], [ids[i] for i in keep]
    )
    sizes = [g.size for g in sub.groups_]
    assert sizes == sorted(sizes, reverse=True)
    assert sub.groups_[-1].id == "G006" and sub.groups_[-1].members[0].startswith("KR04")
    full = [g for g in sub.groups_ if g.size == PER]
    assert [g.members[0] for g in full] == sorted(g.members[0] for g in full)


def test_default_n_groups():
    assert default_n_groups(1) == 1
    assert default_n_groups(3) == 2
    assert default_n_groups(180) == 9
    assert default_n_groups(10_000_000) == 200


def test_stable_ids_after_removing_one_percent(data, fitted):
    x, toks, insts, ids, _ = data
    keep = [i for i in range(len(ids)) if i % 100 != 0]
    refit = PatentGrouper(n_groups=6).fit(
        x[keep],
        [toks[i] for i in keep],
        [insts[i] for i in keep],
        [ids[i] for i in keep],
        previous=fitted.groups_,
    )
    assert stability(fitted.groups_, refit.groups_) >= 0.9
    assert [g.id for g in refit.groups_] == [g.id for g in fitted.groups_]
    gone = {ids[i] for i in range(len(ids)) if i % 100 == 0}
    for old, new in zip(fitted.groups_, refit.groups_, strict=True):
        assert set(new.members) == set(old.members) - gone
    # Without the warm start the Hungarian matching alone keeps the ids on this well-separated data.
    cold = PatentGrouper(n_groups=6, warm_start=False, random_state=5).fit(
        x[keep],
        [toks[i] for i in keep],
        [insts[i] for i in keep],
        [ids[i] for i in keep],
        previous=fitted.groups_,
    )
    assert stability(fitted.groups_, cold.groups_) == 1.0


def test_fresh_ids_continue_after_largest_old(data, fitted):
    x, toks, insts, ids, _ = data
    renamed = [
        Group.from_dict({**g.to_dict(), "id": f"G{10 + i:03d}"}) for i, g in enumerate(fitted.groups_[:4])
    ]  # two old groups forgotten: their clusters need new ids
    refit = PatentGrouper(n_groups=6).fit(x, toks, insts, ids, previous=renamed)
    got = [g.id for g in refit.groups_]
    assert got == ["G010", "G011", "G012", "G013", "G014", "G015"]
    for old in renamed:
        assert next(g for g in refit.groups_ if g.id == old.id).members == old.members


def test_match_rules_jaccard_or_majority():
    base = dict(label="", terms=(), institutions=(), convergence=False, centroid=(1.0, 0.0))
    old = [Group(id="G007", members=tuple(f"d{i}" for i in range(10)), size=10, **base)]
    x = np.tile(np.asarray([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32), (10, 1))  # even rows vs odd rows
    empty: list[list[str]] = [[]] * 20

    def ids_with(extra: dict[int, str]) -> list[str]:
        return [extra.get(i, f"n{i}") for i in range(20)]

    # 2 of the old 10 remain, in one group: Jaccard 2/12 < 0.3 but a majority of the live members -> kept.
    fit = PatentGrouper(n_groups=2).fit(x, empty, empty, ids_with({16: "d0", 18: "d1"}), previous=old)
    assert [g.id for g in fit.groups_] == ["G007", "G008"]
    assert set(fit.groups_[0].members) >= {"d0", "d1"}
    assert stability(old, fit.groups_) == 1.0
    # The 2 survivors split between the groups: no majority, no Jaccard -> fresh ids only.
    split = PatentGrouper(n_groups=2).fit(x, empty, empty, ids_with({17: "d0", 18: "d1"}), previous=old)
    assert [g.id for g in split.groups_] == ["G008", "G009"]
    assert stability(old, split.groups_) == 0.0
    # No old member left at all: fresh ids continue after the largest old number.
    none = PatentGrouper(n_groups=2).fit(x, empty, empty, ids_with({}), previous=old)
    assert [g.id for g in none.groups_] == ["G008", "G009"]


def test_stability_function():
    base = dict(label="", terms=(), institutions=(), convergence=False, centroid=())

    def g(gid, members):
        return Group(id=gid, members=tuple(members), size=len(members), **base)

    old = [g("G001", "abcd"), g("G002", "efgh"), g("G003", "ij")]
    assert stability(old, old) == 1.0
    assert stability(old, [g("G001", "abcdef"), g("G002", "gh"), g("G009", "ij")]) == pytest.approx(1 / 3)
    # Removed members do not count: G002 keeps 'g' of its live {'g'} -> stable.
    assert stability(old, [g("G001", "abcdij"), g("G002", "g")]) == pytest.approx(2 / 3)
    assert stability([], old) == 1.0
    assert stability([g("G005", "xy")], old) == 1.0  # nothing of G005 is left to compare


def test_json_round_trip(tmp_path, fitted):
    path = tmp_path / "sub" / "groups.json"
    save_groups(path, fitted.groups_)
    loaded = load_groups(path)
    assert loaded == fitted.groups_
    assert all(Group.from_dict(g.to_dict()) == g for g in fitted.groups_)
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["format"] == "patent-groups" and payload["version"] == 1
    assert "배터리" in path.read_text(encoding="utf-8") or "반도체" in path.read_text(encoding="utf-8")
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]


def test_load_errors(tmp_path, fitted):
    with pytest.raises(InputFileError, match="not found"):
        load_groups(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFileError, match="JSON"):
        load_groups(bad)
    bad.write_text(json.dumps({"format": "patent-groups", "version": 9, "groups": []}), encoding="utf-8")
    with pytest.raises(InputFileError, match="supported versions"):
        load_groups(bad)
    data = fitted.groups_[0].to_dict()
    with pytest.raises(ValidationError) as err:
        Group.from_dict({**data, "colour": "red"})
    assert err.value.field == "colour" and "valid fields" in str(err.value)
    with pytest.raises(ValidationError) as err:
        Group.from_dict({**data, "size": 3})
    assert err.value.field == "size"
    missing = dict(data)
    del missing["centroid"]
    with pytest.raises(ValidationError) as err:
        Group.from_dict(missing)
    assert err.value.field == "centroid"


@pytest.mark.parametrize(
    ("field", "mutate"),
    [
        ("tokens", lambda a: {**a, "tokens": a["tokens"][:-1]}),
        ("institutions", lambda a: {**a, "institutions": a["institutions"] + [["X"]]}),
        ("ids", lambda a: {**a, "ids": a["ids"][:10]}),
        ("ids", lambda a: {**a, "ids": [a["ids"][0]] + a["ids"][:-1]}),
        ("ids", lambda a: {**a, "ids": [""] + a["ids"][1:]}),
        ("vectors", lambda a: {**a, "vectors": a["vectors"] * 2}),
        ("vectors", lambda a: {**a, "vectors": a["vectors"][:, 0]}),
        ("vectors", lambda a: {**a, "vectors": np.full_like(a["vectors"], np.nan)}),
        ("tokens", lambda a: {**a, "tokens": ["robot slam"] + a["tokens"][1:]}),
        (
            "n_groups",
            lambda a: {
                **a,
                "vectors": a["vectors"][:3],
                "tokens": a["tokens"][:3],
                "institutions": a["institutions"][:3],
                "ids": a["ids"][:3],
            },
        ),
        ("previous", lambda a: {**a, "previous": [{"id": "G001"}]}),
    ],
)
def test_validation_names_the_field(data, field, mutate):
    x, toks, insts, ids, _ = data
    args = mutate({"vectors": x, "tokens": toks, "institutions": insts, "ids": ids})
    with pytest.raises(ValidationError) as err:
        PatentGrouper(n_groups=6).fit(**args)
    assert err.value.field == field


def test_mismatched_length_message(data):
    x, toks, insts, ids, _ = data
    with pytest.raises(ValidationError, match=r"institutions has 179 entries but vectors has 180 rows"):
        PatentGrouper().fit(x, toks, insts[:-1], ids)


@pytest.mark.parametrize(
    "params",
    [{"n_groups": 0}, {"n_terms": -1}, {"min_institutions": 1.5}, {"random_state": "a"}, {"warm_start": 1}],
)
def test_bad_parameters(data, params):
    x, toks, insts, ids, _ = data
    with pytest.raises(ConfigError, match=next(iter(params))):
        PatentGrouper(**params).fit(x, toks, insts, ids)


@pytest.mark.shared
@pytest.mark.slow
def test_real_kipris_stability():
    """KIPRIS Plus XML: TF-IDF → SVD(128) vectors; dropping every 100th record keeps ≥ 90 % of groups."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    from matcher.ingest import ingest_paths
    from matcher.text.tokenize import Analyzer

    path = shared_path("kipris-plus-xml")
    techs = sorted(ingest_paths([path]).technologies, key=lambda t: t.id)
    tokens = Analyzer().analyze_many([f"{t.title}\n{t.abstract}" for t in techs])
    tfidf = TfidfVectorizer(analyzer=lambda toks: toks, sublinear_tf=True, min_df=2).fit_transform(tokens)
    svd = TruncatedSVD(n_components=min(128, tfidf.shape[1] - 1), random_state=0)
    x = normalize(svd.fit_transform(tfidf)).astype(np.float32)
    ids = [t.id for t in techs]
    insts = [list(t.institutions) for t in techs]

    old = PatentGrouper().fit(x, tokens, insts, ids).groups_
    assert not any(t.startswith("#") for g in old for t in g.terms)
    # Document vectors do not depend on the rest of the corpus (as with a neural encoder): reuse the rows.
    keep = [i for i in range(len(ids)) if i % 100 != 0]
    new = (
        PatentGrouper()
        .fit(
            x[keep], [tokens[i] for i in keep], [insts[i] for i in keep], [ids[i] for i in keep], previous=old
        )
        .groups_
    )
    assert stability(old, new) >= 0.9


def test_stems_become_whole_words():
    """With ``surfaces`` a stemmed term is shown as the word it most often stands for in its group."""
    from matcher.text.tokenize import Analyzer

    analyzer = Analyzer()
    assert analyzer.latin_surfaces("Batteries for mobile robots, SLAM과 battery") == [
        ("batteri", "Batteries"), ("mobil", "mobile"), ("robot", "robots"), ("slam", "SLAM"), ("batteri", "battery")
    ]
    texts = ["Battery pack for mobile robots", "battery management of the mobile battery", "Mobile SLAM robot"] * 3
    texts += ["PD-L1 antibody binding", "anti PD-L1 antibodies", "PD-1 antibody variants"] * 3
    tokens = analyzer.analyze_many(texts)
    surfaces = [analyzer.latin_surfaces(t) for t in texts]
    rng = np.random.default_rng(0)
    x = np.repeat(np.eye(8, dtype=np.float32)[:2], 9, axis=0)  # the robot texts, then the antibody texts
    x = x + 0.01 * rng.normal(size=x.shape).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [f"D{i:02d}" for i in range(len(texts))]
    insts = [["A"]] * len(texts)
    stems = PatentGrouper(n_groups=2, n_terms=4).fit(x, tokens, insts, ids).groups_
    words = PatentGrouper(n_groups=2, n_terms=4).fit(x, tokens, insts, ids, surfaces=surfaces).groups_
    assert {t for g in stems for t in g.terms} >= {"batteri", "mobil", "antibodi"}
    assert {t for g in words for t in g.terms} >= {"battery", "mobile", "antibody", "PD"}
    assert [g.members for g in stems] == [g.members for g in words]  # labels only: the clusters are the same
    with pytest.raises(ValidationError, match="surfaces"):
        PatentGrouper(n_groups=2).fit(x, tokens, insts, ids, surfaces=surfaces[:-1])


def test_best_word_of_a_stem():
    from collections import Counter

    from matcher.groups import _best_word

    assert _best_word(Counter({"images": 3, "image": 1, "imaging": 1})) == "image"  # a shorter word that begins it
    assert _best_word(Counter({"detects": 1, "detection": 3})) == "detection"      # else the most frequent
    assert _best_word(Counter({"SLAM": 3, "slam": 1})) == "SLAM"                   # in its most frequent spelling
    assert _best_word(Counter({"Battery": 1, "battery": 1})) == "battery"         # ties: lower case


def test_demo_labels_are_whole_words(demo_index):
    """On the demo index no label term is a bare stem: each is a word written in some member's text."""
    import re

    from matcher.records import Technology
    from matcher.store import IndexStore
    from matcher.store.versions import RECORDS

    current = IndexStore(demo_index).current_path()
    groups = load_groups(current / "groups.json")
    texts = {}
    with (current / RECORDS).open(encoding="utf-8") as fh:
        for line in fh:
            tech = Technology.from_dict(json.loads(line))
            texts[tech.id] = tech.text
    assert groups
    for g in groups:
        member_texts = [texts[m] for m in g.members]
        for term in g.terms:
            if re.search(r"[\uac00-\ud7a3]", term):  # a Korean morpheme: a noun, or a verb stem + 다
                stem = term[:-1] if term.endswith("다") else term
                assert any(stem in t for t in member_texts), (g.id, term)
            else:
                word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(term)}(?![A-Za-z0-9])", re.IGNORECASE)
                assert any(word.search(t) for t in member_texts), f"{g.id}: {term!r} is not a word of its members"
    terms = {t.lower() for g in groups for t in g.terms}
    assert not terms & {"mobil", "batteri", "energi", "antibodi"}, terms
