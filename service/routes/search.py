"""``POST /api/search``: ranked technologies for a query (over what the key may see)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import ResultsDep, SnapshotDep, ViewerDep
from service.routes.problems import API_ERRORS
from service.schemas import SearchHit, SearchRequest

router = APIRouter(prefix="/api", responses=API_ERRORS)


@router.post("/search", response_model=list[SearchHit], tags=["search"], summary="Ranked technologies for a query")
def search(body: SearchRequest, viewer: ViewerDep, snap: SnapshotDep, results: ResultsDep) -> list[dict[str, Any]]:
    def compute() -> list[dict[str, Any]]:
        hits = snap.searcher.search(body.query, body.top_k, visible=snap.visible(viewer))
        return [h.to_dict() for h in hits]

    return results.get_or_compute("search", viewer, body, compute)
