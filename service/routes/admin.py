"""Admin-only service routes: ``POST /api/admin/reload`` and the API keys — create, list, revoke.

A revoked key is refused (401) by this process at once and by every other process sharing the state
database within a second (``matcher/keys.py``). The index lifecycle routes are in ``admin_index.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from service.deps import AdminDep, EngineDep, KeysDep, SnapshotDep
from service.routes.problems import ADMIN_ERRORS, API_ERRORS
from service.schemas import CreatedKey, KeyCreateRequest, KeyInfo, Problem, Reloaded

router = APIRouter(prefix="/api/admin", responses={**API_ERRORS, **ADMIN_ERRORS}, tags=["admin"])


@router.post("/reload", response_model=Reloaded,
             summary="Serve a newly published index version now (otherwise picked up by polling)")
def reload(viewer: AdminDep, engine: EngineDep) -> Reloaded:
    swapped = engine.check_for_update()
    return Reloaded(index_version=engine.snapshot.name, swapped=swapped)


@router.post("/keys", response_model=CreatedKey, summary="Create an API key (the key is shown once)")
def create_key(body: KeyCreateRequest, viewer: AdminDep, snap: SnapshotDep, keys: KeysDep) -> dict[str, Any]:
    institution = snap.version.registry.resolve(body.institution) if body.institution else None
    key, record = keys.create(body.role, institution, expires=body.expires, label=body.label)
    return {**record, "key": key}


@router.get("/keys", response_model=list[KeyInfo], summary="The API keys (without secrets)")
def list_keys(viewer: AdminDep, keys: KeysDep) -> list[dict[str, Any]]:
    return keys.listing()


@router.post("/keys/{key_id}/revoke", response_model=KeyInfo,
             responses={404: {"model": Problem, "description": "no key with this id"}},
             summary="Revoke an API key (refused from then on; revoking again changes nothing)")
def revoke_key(key_id: Annotated[str, PathParam(max_length=64, examples=["key_0123456789ab"])],
               viewer: AdminDep, keys: KeysDep) -> dict[str, Any]:
    return keys.revoke(key_id)
