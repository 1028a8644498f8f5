"""Calibrated relevance: turn a retriever hit into a probability in [0, 1] that it is the right document.

The fused score of :class:`~matcher.retrieval.retriever.HybridRetriever` is a z-score relative to the
(filtered) corpus: unbounded, negative for most documents, and high for the best hit of any query, even
an off-topic one. A :class:`Calibrator` maps *absolute* features of one hit to a probability:

- ``dense``: the raw cosine of the route's encoder (0 when the hit has none);
- ``lexical_frac``: the raw BM25 score over the query's BM25 upper bound
  (:meth:`HybridRetriever.lexical_bound`), so 1.0 means every query term at its corpus weight;
- ``fused_z``: the retriever's fused z-score (relative: it means something else on a 60- and a
  1M-document corpus; kept as a candidate, ``bench/calibrate.py`` measures whether it helps).

One logistic model per route (``ko``, ``en-ko``, ``en-en``), because each route has its own encoder and
cosine scale; fitted on training pairs (the direction), then its scale refitted on the top-10 lists users
are shown (:meth:`Calibrator.rescale`). Absolute features alone calibrated better than with ``fused_z``,
above all on 60-document corpora, and keep off-topic top-1 hits low. Fitted by ``bench/calibrate.py`` on
the dev sets and saved as JSON (no pickle) in ``models/calibration.json``; :func:`load_calibrator` reads it once. The probability reads: "among hits
shown with this relevance on the development sets, this share was the judged right document".

Limit: a Korean query against an English document (route ``ko``) has no dev data; its lexical evidence
is about 0, so such hits get a low relevance from the dense cosine alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import ConfigError
from matcher.files import atomic_write_json

FEATURES: tuple[str, ...] = ("dense", "lexical_frac", "fused_z")
"""Names of the columns :func:`relevance_features` returns, in order."""

MONOTONE: tuple[str, ...] = ("dense", "lexical_frac")
"""Features whose coefficient must be ≥ 0: more similarity never lowers the relevance."""

ROUTES: tuple[str, ...] = ("ko", "en-ko", "en-en")

RELEVANCE_FLOOR = 0.2
"""Below this calibrated relevance a hit is "no good match" (a gap in a bundle, no candidate licensee).

Chosen on the held-out half of the dev sets (``bench/calibrate.py``; table in ``docs/quality.md``,
"Calibrated relevance"). Off-topic queries whose top-1 hit falls below 0.2: Korean demands about topics
the INU corpus lacks 16/16, English ones against SciFact 12/12, SciFact claims against the Korean corpus
96/100, English demands against the Korean corpus 11/12. Answered queries whose right top-1 hit stays at
or above it: Korean titles 92 %, SciFact claims 84 %, English titles of Korean patents (route en-ko, the
weak route) 58 %, so an English demand against Korean patents ends in "no good match" more often.
The separation is flat from 0.15 to 0.25 (off-topic claims rejected 93–96 %, right Korean top-1 hits kept
93–89 %); 0.2 is the round value in the middle: a wrong "good match" costs an officer more than an
honest gap.
"""

FORMAT = "matcher-calibration/1"

REQUEST_WORDS = (
    "필요 필요하다 필요합니다 찾다 찾고 있습니다 원하다 원합니다 희망 희망합니다 도입 도입하다 관련 기술 특허 회사 저희 우리 "
    "당사 문의 싶다 싶습니다 제공 보유 관심 라이선스 이전 구하다 알아보다 방법 해결 가능 있다 하다 "
    "we our us need needs looking look seek seeking want wants company companies licence license licensing "
    "patent patents technology technologies interested is there could any solution solutions method methods"
)
"""How a demand is asked, not what it asks for (Korean and English request phrasing). Their analysed terms
are left out of :meth:`HybridRetriever.lexical_bound`, so "배터리 관리 기술이 필요합니다" is judged on 배터리 관리
like "배터리 관리"; they still count in BM25 itself."""

_REQUEST_TERMS: dict[str, frozenset[str]] = {}


def request_terms(analyzer: Any) -> frozenset[str]:
    """:data:`REQUEST_WORDS` as ``analyzer`` tokenises them (cached per analyzer configuration)."""
    key = json.dumps(analyzer.config.to_dict(), sort_keys=True, default=str)
    if key not in _REQUEST_TERMS:
        _REQUEST_TERMS[key] = frozenset(analyzer.analyze(REQUEST_WORDS))
    return _REQUEST_TERMS[key]


def relevance_features(scored: Any, lexical_bound: float) -> list[float]:
    """``[dense, lexical_frac, fused_z]`` of one hit (a ``Scored`` or anything with ``score`` and
    ``components``); ``lexical_bound`` is :meth:`HybridRetriever.lexical_bound` of the query."""
    comps = scored.components
    dense = comps.get("dense")
    dense_f = 0.0 if dense is None or not math.isfinite(float(dense)) else float(dense)
    lexical = float(comps.get("lexical") or 0.0)
    frac = lexical / lexical_bound if lexical_bound > 0 else 0.0
    frac = min(max(frac, 0.0), 1.0)
    score = float(scored.score)
    z = score if math.isfinite(score) else 0.0
    return [dense_f, frac, z]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow


class Calibrator:
    """Logistic relevance calibration, one model per route (scikit-learn style).

    Parameters are set in ``__init__``; :meth:`fit` learns, :meth:`predict` returns probabilities.
    ``features`` selects columns of :func:`relevance_features` by name; ``per_route`` fits one model per
    route (else one pooled model); ``C`` is the inverse L2 strength of the logistic regression.
    A fitted coefficient of a :data:`MONOTONE` feature that comes out negative is dropped (the model is
    refitted without it), so the relevance never falls as similarity rises.
    """

    def __init__(self, features: Sequence[str] = ("dense", "lexical_frac"), *, per_route: bool = True,
                 C: float = 1.0) -> None:
        unknown = [f for f in features if f not in FEATURES]
        if unknown or not features:
            raise ConfigError(f"calibration features {list(features)!r}: unknown {unknown}; valid: {', '.join(FEATURES)}")
        self.features = tuple(features)
        self.per_route = per_route
        self.C = C
        self.models_: dict[str, dict[str, Any]] = {}
        self.made_: dict[str, Any] = {}

    # ------------------------------------------------------------------ helpers
    def _columns(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(FEATURES):
            raise ValueError(f"X must have shape (n, {len(FEATURES)}) with columns {FEATURES}, got {X.shape}")
        return X[:, [FEATURES.index(f) for f in self.features]]

    def _route_keys(self, routes: Iterable[str] | None, n: int) -> np.ndarray:
        if not self.per_route or routes is None:
            return np.full(n, "all", dtype=object)
        keys = np.asarray(list(routes), dtype=object)
        if keys.shape[0] != n:
            raise ValueError(f"{keys.shape[0]} routes for {n} rows")
        return keys

    def _model_for(self, key: str) -> dict[str, Any]:
        if key in self.models_:
            return self.models_[key]
        if "all" in self.models_:
            return self.models_["all"]
        raise ConfigError(f"no calibration model for route {key!r}; fitted: {', '.join(sorted(self.models_))}")

    # ------------------------------------------------------------------ learning
    def _fit_one(self, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        from sklearn.linear_model import LogisticRegression

        active = list(range(X.shape[1]))
        while True:
            lr = LogisticRegression(C=self.C, max_iter=2000).fit(X[:, active], y)
            coef = lr.coef_[0]
            negative = [active[i] for i, c in enumerate(coef)
                        if c < 0 and self.features[active[i]] in MONOTONE]
            if not negative or len(active) == 1:
                break
            active.remove(min(negative, key=lambda j: coef[active.index(j)]))
        full = np.zeros(X.shape[1])
        full[active] = coef
        for j, f in enumerate(self.features):
            if f in MONOTONE:
                full[j] = max(full[j], 0.0)
        return {"coef": [float(c) for c in full], "intercept": float(lr.intercept_[0]),
                "n": int(y.size), "positives": int(y.sum())}

    def fit(self, X: np.ndarray, y: np.ndarray, routes: Sequence[str] | None = None) -> Calibrator:
        """Learn from ``X`` (rows of :func:`relevance_features`), ``y`` (1 = relevant) and the rows' routes."""
        Xs = self._columns(X)
        y = np.asarray(y, dtype=np.int64)
        keys = self._route_keys(routes, Xs.shape[0])
        self.models_ = {}
        for key in sorted(set(keys.tolist())):
            rows = keys == key
            if len(set(y[rows].tolist())) < 2:
                raise ValueError(f"route {key!r}: both relevant and non-relevant rows are needed to fit")
            self.models_[str(key)] = self._fit_one(Xs[rows], y[rows])
        return self

    def rescale(self, X: np.ndarray, y: np.ndarray, routes: Sequence[str] | None = None) -> Calibrator:
        """Refit each route's probability scale on another population (Platt scaling of the fitted logit).

        :meth:`fit` learns from training pairs heavy with hard negatives, which sets the *direction*
        (how dense and lexical evidence trade off) well but the *scale* for that mix; rescaling on the
        hits a user is shown (top-10 lists) makes "0.7" mean "7 in 10 of the hits shown at 0.7 were right".
        The new logit is ``a · old + c`` with ``a > 0``, folded into the coefficients, so the saved model
        stays one logistic per route and keeps its monotonicity.
        """
        from sklearn.linear_model import LogisticRegression

        if not self.models_:
            raise ConfigError("rescale() needs a fitted calibrator (call fit() first)")
        Xs = self._columns(X)
        y = np.asarray(y, dtype=np.int64)
        keys = self._route_keys(routes, Xs.shape[0])
        for key, model in self.models_.items():
            rows = keys == key if key != "all" else np.ones(Xs.shape[0], dtype=bool)
            if len(set(y[rows].tolist())) < 2:
                continue
            logit = Xs[rows] @ np.asarray(model["coef"]) + model["intercept"]
            lr = LogisticRegression(C=100.0, max_iter=2000).fit(logit[:, None], y[rows])
            a, c = float(lr.coef_[0][0]), float(lr.intercept_[0])
            if a <= 0:
                continue
            model["coef"] = [a * v for v in model["coef"]]
            model["intercept"] = a * model["intercept"] + c
            model["rescaled_on"] = {"n": int(rows.sum()), "positives": int(y[rows].sum())}
        return self

    def predict(self, X: np.ndarray, routes: Sequence[str] | None = None) -> np.ndarray:
        """Probabilities in [0, 1] that each row is relevant (a route without its own model uses ``all``)."""
        if not self.models_:
            raise ConfigError("the calibrator is not fitted (call fit() or load a calibration file)")
        Xs = self._columns(X)
        keys = self._route_keys(routes, Xs.shape[0])
        out = np.empty(Xs.shape[0], dtype=np.float64)
        for key in set(keys.tolist()):
            rows = keys == key
            model = self._model_for(str(key))
            out[rows] = _sigmoid(Xs[rows] @ np.asarray(model["coef"]) + model["intercept"])
        return out

    def predict_scored(self, scored: Sequence[Any], lexical_bound: float) -> np.ndarray:
        """Relevance of each hit of ONE query (``HybridRetriever.search`` output), in the hits' order.

        ``lexical_bound`` is ``retriever.lexical_bound(query_text)`` for the same query text.
        """
        if not scored:
            return np.zeros(0, dtype=np.float64)
        X = np.asarray([relevance_features(s, lexical_bound) for s in scored], dtype=np.float64)
        routes = [str(s.components.get("route", "")) for s in scored]
        return self.predict(X, routes)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "features": list(self.features),
            "per_route": self.per_route,
            "C": self.C,
            "model": "logistic: relevance = 1 / (1 + exp(-(intercept + coef · features)))",
            "routes": self.models_,
            "made": self.made_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        if data.get("format") != FORMAT:
            raise ConfigError(f"calibration format {data.get('format')!r}; expected {FORMAT!r}")
        model = cls(data["features"], per_route=bool(data["per_route"]), C=float(data.get("C", 1.0)))
        model.models_ = {str(k): dict(v) for k, v in data["routes"].items()}
        for key, entry in model.models_.items():
            if len(entry["coef"]) != len(model.features):
                raise ConfigError(f"calibration route {key!r}: {len(entry['coef'])} coefficients for "
                                  f"{len(model.features)} features {model.features}")
        model.made_ = dict(data.get("made", {}))
        return model

    def save(self, path: str | Path, made: dict[str, Any] | None = None) -> Path:
        path = Path(path)
        if made is not None:
            self.made_ = {"when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **made}
        atomic_write_json(path, self.to_dict(), indent=2)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Calibrator:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"calibration file {path} is missing (run bench/calibrate.py)") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"calibration file {path} is not valid JSON ({exc.msg})") from None
        return cls.from_dict(data)


def calibration_file() -> Path:
    from matcher.encoders.registry import models_dir

    return models_dir() / "calibration.json"


@lru_cache(maxsize=4)
def _load_cached(path: str) -> Calibrator:
    return Calibrator.load(path)


def load_calibrator(path: str | Path | None = None) -> Calibrator:
    """The calibrator of ``path`` (default ``models/calibration.json``), read once per path."""
    return _load_cached(str(Path(path) if path is not None else calibration_file()))
