"""``POST /api/export/{matches,bundles,licensees}?format=csv|xlsx``: the answers of match, bundles and
licensees as files (rendered by ``service/export.py``), with their media types in the OpenAPI document."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from matcher.access import Viewer
from matcher.errors import NotFoundError
from service import export
from service.deps import SnapshotDep, ViewerDep
from service.routes.licensees import licensees_answer
from service.routes.match import bundles_answer, match_answer
from service.routes.problems import API_ERRORS, TECH_NOT_FOUND, Responses
from service.schemas import BundlesRequest, ExportFormat, LicenseesRequest, MatchRequest
from service.state import Snapshot

router = APIRouter(prefix="/api/export", responses=API_ERRORS, tags=["export"])

FILE: Responses = {200: {"content": {media: {"schema": {"type": "string", "format": "binary"}}
                                     for media in export.MEDIA_TYPES.values()},
                         "description": "the file (CSV: UTF-8 with a byte-order mark; XLSX: one sheet)"}}
FormatQuery = Annotated[ExportFormat, Query(alias="format", description="csv or xlsx")]


def record_lookup(snap: Snapshot, viewer: Viewer) -> export.Lookup:
    """Technology id → its record as a dict, for what ``viewer`` may see (``None`` otherwise)."""
    def lookup(tech_id: str) -> dict[str, Any] | None:
        try:
            return snap.technology(tech_id, viewer).to_dict()
        except NotFoundError:
            return None
    return lookup


def export_file(kind: str, answer: Any, fmt: str, lookup: export.Lookup) -> Response:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Response(content=export.render(kind, answer, fmt, lookup), media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{stamp}.{fmt}"'})


@router.post("/matches", response_class=Response, responses=FILE,
             summary="The answer of POST /api/match as a CSV or XLSX file (one row per match)")
def export_matches(body: MatchRequest, viewer: ViewerDep, snap: SnapshotDep, fmt: FormatQuery = "csv") -> Response:
    return export_file("matches", match_answer(body, viewer, snap), fmt, record_lookup(snap, viewer))


@router.post("/bundles", response_class=Response, responses=FILE,
             summary="The answer of POST /api/bundles as a CSV or XLSX file (one row per bundle requirement)")
def export_bundles(body: BundlesRequest, viewer: ViewerDep, snap: SnapshotDep, fmt: FormatQuery = "csv") -> Response:
    return export_file("bundles", bundles_answer(body, viewer, snap), fmt, record_lookup(snap, viewer))


@router.post("/licensees", response_class=Response, responses={**FILE, **TECH_NOT_FOUND},
             summary="The answer of POST /api/licensees as a CSV or XLSX file (one row per candidate)")
def export_licensees(body: LicenseesRequest, viewer: ViewerDep, snap: SnapshotDep,
                     fmt: FormatQuery = "csv") -> Response:
    return export_file("licensees", licensees_answer(body, viewer, snap), fmt, record_lookup(snap, viewer))
