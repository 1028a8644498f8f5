"""``POST /api/search``: ranked technologies for a query (over what the key may see)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.deps import ResultsDep, SnapshotDep, ViewerDep
from service.routes.problems import API_ERRORS
from service.schemas import SearchHit, SearchRequest

router = APIRouter(prefix="/api", responses=API_ERRORS)


@router.post("/search", response_model=list[SearchHit], tags=["search"], summary="Ranked technologies for a query")
async def search(body: SearchRequest, viewer: ViewerDep, snap: SnapshotDep,
                 results: ResultsDep) -> list[dict[str, Any]]:
    def compute() -> list[dict[str, Any]]:
        hits = snap.searcher.search(body.query, body.top_k, visible=snap.visible(viewer))
        return [h.to_dict() for h in hits]

    # the search in the thread pool, the answer's validation here: a plain ``def`` route would take a second
    # thread hop for the validation (the route answers in ≈ 10 ms; each hop costs ≈ 0.1 ms and a GIL hand-off)
    return await run_in_threadpool(results.get_or_compute, "search", viewer, body, compute)
