"""``POST /api/licensees``: licensee candidates (companies) for a technology, a bundle or a text."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from matcher.access import Viewer
from service.deps import SnapshotDep, ViewerDep
from service.routes.problems import API_ERRORS, TECH_NOT_FOUND
from service.schemas import LicenseesRequest, LicenseesResponse
from service.state import Snapshot

router = APIRouter(prefix="/api", responses=API_ERRORS, tags=["licensing"])


def licensees_answer(body: LicenseesRequest, viewer: Viewer, snap: Snapshot) -> dict[str, Any]:
    """The answer, cached per index version (also rendered as a file by ``routes/export.py``)."""
    def compute() -> dict[str, Any]:
        return snap.licensees.rank(technology_id=body.technology_id, text=body.text, members=body.members,
                                   top_k=body.top_k, include_institutions=body.include_institutions,
                                   visible=snap.visible(viewer), include_inactive=body.include_inactive).to_dict()

    return snap.results.get_or_compute("licensees", viewer, body, compute)


@router.post("/licensees", response_model=LicenseesResponse, responses=TECH_NOT_FOUND,
             summary="Licensee candidates (companies) for a technology, a bundle or a text, with evidence")
def licensees(body: LicenseesRequest, viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
    return licensees_answer(body, viewer, snap)
