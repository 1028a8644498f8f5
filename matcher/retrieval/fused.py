"""One query's fused scores, as :meth:`retriever.HybridRetriever.search` ranks them, computed in few passes over
the documents.

A document's fused score is ``w_lex · lexical_z + w_dense · dense_z`` (its route's weights, its lexical and
dense channels' normalised scores). An approximate dense channel normalised with sampled statistics scores a
few thousand documents (:class:`Channel` ``known``); every other document it covers gets the same normalised
score, ``stats.fill``'s. So the documents of one :class:`RouteClass` (same route, whether the route's encoder
embeds them, same weights) that the channel did not score all get ``w_lex · lexical_z + constant``: the
fused array is the lexical channel's times its weight plus a constant per class, the scored documents then
written over — the same values, bit for bit, as the sums over whole arrays (``_fuse_plain`` in
``retriever.py``, which the tests hold this to), in a handful of passes instead of some thirty. The
per-document parts (raw and normalised channel scores, weights) are computed only for the documents shown
(:meth:`FusedQuery.table`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from matcher.retrieval.fusion import STAT_NORMALISERS, ChannelStats


def top_candidates(values: np.ndarray, take: int) -> np.ndarray:
    """Indexes of the ``values`` that can make the top ``take``: every value ≥ the take-th largest (its ties
    kept), unordered. A threshold from a strided subsample first cuts the array to a few times ``take``:
    ``np.partition`` degrades on many equal values (100,000 fused scores of which most share an
    approximate channel's estimate: 21 ms against 0.8 ms), the subsample's few do not."""
    n = values.size
    if take <= 0:
        return np.zeros(0, dtype=np.int64)
    if take >= n:
        return np.arange(n)
    keep = np.arange(n)
    if n > 4 * take:
        step = max(1, n // 1024)
        sub = values[::step]
        rank = min(sub.size, -(-4 * take // step))  # ≈ 4·take values of the whole array lie above it
        above = np.flatnonzero(values >= np.partition(sub, sub.size - rank)[sub.size - rank])
        if above.size >= take:  # else fewer than expected lie above the threshold: the whole array
            keep = above
    kept = values[keep]
    return keep[kept >= np.partition(kept, kept.size - take)[kept.size - take]]


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of a 1-d integer array by one sort (``np.unique`` hashes first: 225 µs against 50 µs
    for 2,500 positions)."""
    values = np.sort(values)
    if values.size < 2:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def top_positive(values: np.ndarray, allowed: np.ndarray | None, take: int) -> np.ndarray:
    """Indexes (unordered) of the positive ``values`` in ``allowed`` (``None``: all) that can make their top
    ``take``: ``hits[top_candidates(values[hits], take)]`` for ``hits`` the allowed positive indexes, without
    listing the hits when they are many (a Korean query's BM25 scores are positive for half of the corpus)."""
    positive = values > 0
    if allowed is not None:
        positive &= allowed
    count = int(np.count_nonzero(positive))
    if count <= take or 8 * count < values.size:  # few: the hits themselves
        hits = np.flatnonzero(positive)
        return hits[top_candidates(values[hits], take)]
    # more than ``take`` hits: the take-th largest allowed value is positive, so only hits reach it (and the
    # subsample's threshold of top_candidates falls among the hits, not on the zeros)
    return top_candidates(values if allowed is None else np.where(positive, values, 0), take)


@dataclass(frozen=True)
class Scored:
    """One ranked document: position, fused score and the parts it was made of."""

    position: int
    score: float
    components: dict[str, Any]


class RouteClass(NamedTuple):
    """Documents a query of one language fuses alike where its dense channel did not score them: the same
    ``route`` (-1: none), ``scoped`` (the route's encoder embeds them), and the same weights."""

    members: np.ndarray  # their positions, ascending
    route: int
    scoped: bool
    w_lex: float
    w_dense: float


@dataclass(frozen=True)
class Channel:
    """One dense channel's part of a query: its ``route`` number and encoder ``name``, raw scores by position
    (NaN = not scored), the documents its normalisation covers (``scope``), and either every document's
    normalised score (``z``: an exact channel, or candidates ranked alone) or the sampled statistics they
    are computed with where asked (``stats``, with ``known``: the positions it scored, some maybe repeated)."""

    route: int
    name: str
    normalisation: str
    raw: np.ndarray
    scope: np.ndarray
    z: np.ndarray | None = None
    stats: ChannelStats | None = None
    known: np.ndarray | None = None

    def normalised(self, positions: np.ndarray) -> np.ndarray:
        """The normalised scores of ``positions``: elementwise, the values of the whole array's at them."""
        if self.z is not None:
            return self.z[positions]
        assert self.stats is not None
        return STAT_NORMALISERS[self.normalisation](self.raw[positions], self.scope[positions], self.stats)

    def unscored(self) -> float:
        """The normalised score of a document in scope the channel did not score (NaN)."""
        assert self.stats is not None
        nan = np.full(1, np.nan, dtype=self.raw.dtype)
        return float(STAT_NORMALISERS[self.normalisation](nan, np.ones(1, dtype=bool), self.stats)[0])


@dataclass(frozen=True)
class Table:
    """Fused scores and their parts of chosen documents (``positions[i]`` is row i's position)."""

    text: str
    korean_query: bool
    names: list[str]
    positions: np.ndarray
    korean: np.ndarray
    fused: np.ndarray
    lexical_raw: np.ndarray
    lexical_z: np.ndarray
    w_lex_eff: np.ndarray
    dense_raw: np.ndarray
    dense_z: np.ndarray
    w_dense: np.ndarray
    route: np.ndarray

    def top(self, rows: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` best of ``rows`` (indexes into the arrays), best first; ties by position."""
        take = min(k, rows.size)
        rows = rows[top_candidates(self.fused[rows], take)]  # sort only what can make the top k
        return rows[np.lexsort((self.positions[rows], -self.fused[rows]))][:take]

    def refused(self) -> Table:
        """This table with ``fused`` recomputed from its parts (after channel scores were replaced)."""
        return dataclasses.replace(self, fused=self.w_lex_eff * self.lexical_z + self.w_dense * self.dense_z)

    def hits(self, rows: np.ndarray | None = None) -> list[Scored]:
        """``rows`` (indexes into the arrays; ``None``: all) as ranked documents, best first; ties by position."""
        if rows is None:
            rows = np.arange(self.positions.size)
        rows = rows[np.lexsort((self.positions[rows], -self.fused[rows]))]
        language = "ko" if self.korean_query else "en"
        results = []
        for i in rows:
            doc_route = "ko" if self.korean_query else ("en-ko" if self.korean[i] else "en-en")
            results.append(Scored(
                position=int(self.positions[i]),
                score=float(self.fused[i]),
                components={
                    "route": doc_route,
                    "query_language": language,
                    "lexical": float(self.lexical_raw[i]),
                    "lexical_norm": float(self.lexical_z[i]),
                    "lexical_weight": float(self.w_lex_eff[i]),
                    "dense": None if np.isnan(self.dense_raw[i]) else float(self.dense_raw[i]),
                    "dense_norm": float(self.dense_z[i]),
                    "dense_weight": float(self.w_dense[i]),
                    "encoder": self.names[self.route[i]] if self.route[i] >= 0 else None,
                },
            ))
        return results


@dataclass(frozen=True)
class FusedQuery:
    """One query's fused score of every document (``-inf`` outside ``mask``) and what the parts of chosen
    documents are computed from: the lexical channel's raw and normalised scores, weights and routes (whole
    arrays, by position), the dense channels (:class:`Channel`)."""

    text: str
    korean_query: bool
    names: list[str]
    korean: np.ndarray
    fused: np.ndarray
    lexical_raw: np.ndarray
    lexical_z: np.ndarray
    w_lex_eff: np.ndarray
    w_dense: np.ndarray
    route: np.ndarray
    mask: np.ndarray
    allowed: int  # documents in mask
    extra: np.ndarray  # the positions approximate channels scored exactly besides candidates and sample
    channels: list[Channel]

    @property
    def sampled(self) -> list[Channel]:
        """The dense channels normalised with sampled statistics."""
        return [c for c in self.channels if c.stats is not None]

    def top(self, k: int, within: np.ndarray | None = None) -> np.ndarray:
        """Positions of the ``k`` best documents in ``mask`` (and ``within``, a boolean mask), best first; ties
        by position: :meth:`Table.top` over those rows of the whole table."""
        if within is None:  # the whole array: outside mask is -inf, below every allowed (finite) score
            take = min(k, self.allowed)
            best = top_candidates(self.fused, take)
            if not np.isneginf(self.fused[best]).any():
                return best[np.lexsort((best, -self.fused[best]))][:take]
        rows = np.flatnonzero(self.mask if within is None else self.mask & np.asarray(within, dtype=bool))
        take = min(k, rows.size)
        rows = rows[top_candidates(self.fused[rows], take)]
        return rows[np.lexsort((rows, -self.fused[rows]))][:take]

    def table(self, positions: np.ndarray) -> Table:
        """The fused scores and parts of ``positions`` (allowed ones; fresh arrays)."""
        route = self.route[positions]
        dense_raw = np.full(positions.size, np.nan, dtype=np.float32)
        dense_z = np.zeros(positions.size)
        for channel in self.channels:
            at = route == channel.route
            chosen = positions[at]
            dense_raw[at] = channel.raw[chosen]
            dense_z[at] = channel.normalised(chosen)
        return Table(self.text, self.korean_query, self.names, positions, self.korean[positions],
                     self.fused[positions], self.lexical_raw[positions], self.lexical_z[positions],
                     self.w_lex_eff[positions], dense_raw, dense_z, self.w_dense[positions], route)


def fused_scores(classes: Sequence[RouteClass], w_lex_eff: np.ndarray, w_dense: np.ndarray, route: np.ndarray,
                 lexical_z: np.ndarray, channels: Sequence[Channel], mask: np.ndarray | None) -> np.ndarray:
    """Every document's ``w_lex_eff · lexical_z + w_dense · dense_z`` (``-inf`` outside ``mask``; ``None``: every
    document allowed), ``dense_z`` being each document's route's channel's normalised score (0 without one):
    the largest class's sum over the whole array, each other class's over its members (an addition masked by
    class costs as much as ten plain ones: the classes interleave), then the documents a sampled channel
    scored written over (module docstring)."""
    by_route = {c.route: c for c in channels}
    ordered = sorted(classes, key=lambda c: -c.members.size)
    fused = np.zeros(lexical_z.size)
    for i, group in enumerate(ordered):
        channel = by_route.get(group.route)
        if i == 0:  # in place over the whole array: the other classes are written over below
            fused = np.multiply(lexical_z, group.w_lex)
            np.add(fused, _dense_part(group, channel, slice(None)), out=fused)
        else:
            at = group.members
            fused[at] = lexical_z[at] * group.w_lex + _dense_part(group, channel, at)
    for channel in channels:
        if channel.known is None:
            continue
        known = channel.known
        scored = known[(route[known] == channel.route) & (True if mask is None else mask[known])]
        fused[scored] = w_lex_eff[scored] * lexical_z[scored] + w_dense[scored] * channel.normalised(scored)
    if mask is not None:
        np.copyto(fused, -np.inf, where=~mask)
    return fused


def _dense_part(group: RouteClass, channel: Channel | None, at: slice | np.ndarray) -> float | np.ndarray:
    """``w_dense · dense_z`` of the documents ``at`` of ``group`` where ``channel`` (their route's) did not
    score them: one value, or (a channel normalising every document) theirs."""
    if channel is not None and channel.z is not None:
        return group.w_dense * channel.z[at]
    return group.w_dense * (channel.unscored() if channel is not None and group.scoped else 0.0)
