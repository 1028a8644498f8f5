"""``GET /health``: open (no key) — liveness, the served version and the public count."""

from __future__ import annotations

from fastapi import APIRouter

from matcher.access import Viewer
from service.deps import SnapshotDep
from service.schemas import Health

#: what the open /health endpoint counts: the technologies a key bound to no institution may see
PUBLIC = Viewer(role="officer", institution=None)

router = APIRouter()


@router.get("/health", response_model=Health, tags=["service"], summary="Liveness and the served index version")
def health(snap: SnapshotDep) -> Health:
    return Health(status="ok", index_version=snap.name, count=snap.visible_count(PUBLIC))
