"""Admin key routes beside ``/api/admin/keys`` (create and list are in ``service/app.py``): revoke.

A revoked key is refused (401) by this process at once and by every other process sharing the state
database within a second (``matcher/keys.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam

from service.auth import AdminDep
from service.schemas import KeyInfo, Problem

_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no API key, or an unknown, revoked or expired one"},
    403: {"model": Problem, "description": "the key's role is not admin"},
    404: {"model": Problem, "description": "no key with this id"},
}


def key_router() -> APIRouter:
    router = APIRouter(prefix="/api/admin/keys", tags=["admin"], responses=_RESPONSES)

    @router.post("/{key_id}/revoke", response_model=KeyInfo,
                 summary="Revoke an API key (refused from then on; revoking again changes nothing)")
    def revoke_key(key_id: Annotated[str, PathParam(max_length=64, examples=["key_0123456789ab"])],
                   viewer: AdminDep, request: Request) -> dict[str, Any]:
        return request.app.state.keys.revoke(key_id)  # type: ignore[no-any-return]

    return router
