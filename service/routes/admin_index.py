"""Admin routes of the index lifecycle: list versions, activate one, roll back (``matcher/store/lifecycle.py``).

Admin key required. Activation checks the version first (it loads, counts agree, one query runs); an
unknown version is 404 listing the known ones, one that fails its check 409 naming what failed — the
active version is then unchanged (errors rendered by ``service/errors.py``). Each switch is logged in
``INDEX/activations.jsonl`` as ``api:<key id>``; this process serves the new version at once, other
processes within their reload interval.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from matcher.errors import MatcherError
from matcher.store import lifecycle
from matcher.store.versions import IndexStore
from service.auth import KEY_ID
from service.deps import AdminDep, EngineDep
from service.routes.problems import ADMIN_ERRORS, API_ERRORS
from service.schemas import Problem
from service.state import Engine

log = logging.getLogger("matcher.service")

_Version = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$",
                                examples=["v20260101T000000.000000-a1b2c3"])]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **API_ERRORS, **ADMIN_ERRORS,
    404: {"model": Problem, "description": "no such index version (the known ones are listed)"},
    409: {"model": Problem, "description": "the version failed its check; the active version is unchanged"},
}


class ActivateRequest(BaseModel):
    version: _Version = Field(description="a version from GET /api/admin/index/versions")

    model_config = ConfigDict(extra="forbid")


class RollbackRequest(BaseModel):
    to: _Version | None = Field(default=None, description="default: the version active before the current one")

    model_config = ConfigDict(extra="forbid")


class Activated(BaseModel):
    active: str = Field(description="the active version now")
    previous: str | None = Field(description="the version active before this call")
    changed: bool = Field(description="false when the version was already active")
    serving: str = Field(description="the version this process serves now")


class VersionInfo(BaseModel):
    version: str
    active: bool
    created: str | None
    count: int | None


def _store(engine: Engine) -> IndexStore:
    if engine.store is None:  # pragma: no cover - an engine made without a store serves a fixed version
        raise MatcherError("this service was started without an index directory")
    return engine.store


def _actor(request: Request) -> str:
    return f"api:{request.scope.get(KEY_ID) or 'unknown'}"


def _serve(engine: Engine, result: lifecycle.Activation) -> Activated:
    try:
        engine.check_for_update()  # this process at once; others poll
    except MatcherError as exc:  # checked, so unlikely; the poller retries and logs
        log.error("activated %s but could not load it here yet: %s", result.active, exc)
    return Activated(active=result.active, previous=result.previous, changed=result.changed,
                     serving=engine.snapshot.name)


router = APIRouter(prefix="/api/admin/index", tags=["admin"], responses=_RESPONSES)


@router.get("/versions", response_model=list[VersionInfo], summary="The index versions, oldest first")
def versions(viewer: AdminDep, engine: EngineDep) -> list[dict[str, Any]]:
    return [v.to_dict() for v in lifecycle.list_versions(_store(engine))]


@router.post("/activate", response_model=Activated, summary="Check an index version and make it the active one")
def activate(body: ActivateRequest, viewer: AdminDep, engine: EngineDep, request: Request) -> Activated:
    result = lifecycle.activate(_store(engine), body.version, by=_actor(request), encoders=dict(engine.encoders))
    return _serve(engine, result)


@router.post("/rollback", response_model=Activated,
             summary="Check and reactivate the version active before the current one (or `to`)")
def rollback(viewer: AdminDep, engine: EngineDep, request: Request,
             body: Annotated[RollbackRequest | None, Body()] = None) -> Activated:
    to = body.to if body is not None else None
    result = lifecycle.rollback(_store(engine), to, by=_actor(request), encoders=dict(engine.encoders))
    return _serve(engine, result)
