"""``POST /api/match`` (technologies for a demand, with coverage and evidence) and ``POST /api/bundles``
(one institution's own set, convergence bundles across institutions, the gaps).

:func:`match_answer` and :func:`bundles_answer` are the answers, cached per index version; the export
routes (``routes/export.py``) render the same answers as files.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from matcher.access import Viewer
from matcher.records import DemandProfile
from service.deps import SnapshotDep, ViewerDep
from service.routes.problems import API_ERRORS
from service.schemas import BundlesRequest, BundlesResponse, DemandRequest, MatchRequest, MatchResponse
from service.state import Snapshot

router = APIRouter(prefix="/api", responses=API_ERRORS, tags=["matching"])


def demand_of(body: DemandRequest) -> DemandProfile:
    return DemandProfile(text=body.text or "", requirements=tuple(body.requirements or ()), filters=body.filter_dict())


def match_answer(body: MatchRequest, viewer: Viewer, snap: Snapshot) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        return snap.matcher.match(demand_of(body), body.top_k, visible=snap.visible(viewer),
                                  include_inactive=body.include_inactive,
                                  min_relevance=body.min_relevance).to_dict()

    return snap.results.get_or_compute("match", viewer, body, compute)


def bundles_answer(body: BundlesRequest, viewer: Viewer, snap: Snapshot) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        return snap.matcher.bundles(demand_of(body), top_n=body.top_n, visible=snap.visible(viewer),
                                    include_inactive=body.include_inactive).to_dict()

    return snap.results.get_or_compute("bundles", viewer, body, compute)


@router.post("/match", response_model=MatchResponse,
             summary="Match a demand to technologies, with per-requirement coverage and evidence")
def match(body: MatchRequest, viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
    return match_answer(body, viewer, snap)


@router.post("/bundles", response_model=BundlesResponse,
             summary="Convergence bundles: technologies of several institutions covering a demand together")
def bundles(body: BundlesRequest, viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
    return bundles_answer(body, viewer, snap)
