"""``create_app(settings)``: the FastAPI application over one index directory.

The current index version is loaded once, when the app is created, and replaced without a restart
when a new version is published (``service/state.py``). Every ``/api`` operation needs an API key
(``service/auth.py``) and sees only the technologies its key may see (``matcher/access.py``);
``/health``, ``/openapi.json``, ``/docs`` and the officers' page at ``/`` are open.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles

from matcher.access import Viewer
from matcher.keys import KeyStore
from matcher.records import DemandProfile
from service.auth import AdminDep, ViewerDep
from service.errors import install_error_handlers
from service.schemas import (
    BundlesRequest,
    BundlesResponse,
    CreatedKey,
    DemandRequest,
    Health,
    KeyCreateRequest,
    KeyInfo,
    LicenseeCandidate,
    LicenseesRequest,
    MatchRequest,
    MatchResponse,
    Me,
    Problem,
    Reloaded,
    SearchHit,
    SearchRequest,
)
from service.settings import ServiceSettings
from service.state import Engine, Snapshot, load_engine

STATIC = Path(__file__).resolve().parent / "static"
#: what the open /health endpoint counts: the technologies a key bound to no institution may see
PUBLIC = Viewer(role="officer", institution=None)
log = logging.getLogger("matcher.service")


def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_snapshot(request: Request) -> Snapshot:
    """The index version this request uses from start to end (taken once; a swap does not change it)."""
    return get_engine(request).snapshot


EngineDep = Annotated[Engine, Depends(get_engine)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no API key, or an unknown one"},
    422: {"model": Problem, "description": "bad input; `field` names it"},
}
_ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "the key's role is not admin"},
}


def demand_of(body: DemandRequest) -> DemandProfile:
    return DemandProfile(text=body.text or "", requirements=tuple(body.requirements or ()), filters=body.filter_dict())


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api", responses=_ERRORS)

    @router.get("/me", response_model=Me, tags=["service"], summary="The calling key's role and institution")
    def me(viewer: ViewerDep) -> Me:
        return Me(role=viewer.role, institution=viewer.institution)

    @router.get("/index", tags=["service"], summary="The served index version's manifest",
                description="Counts cover only the technologies the calling key may see.")
    def index_info(viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
        return snap.manifest_for(viewer)

    @router.post("/search", response_model=list[SearchHit], tags=["search"], summary="Ranked technologies for a query")
    def search(body: SearchRequest, viewer: ViewerDep, snap: SnapshotDep) -> list[dict[str, Any]]:
        def compute() -> list[dict[str, Any]]:
            hits = snap.searcher.search(body.query, body.top_k, visible=snap.visible(viewer))
            return [h.to_dict() for h in hits]

        return snap.results.get_or_compute("search", viewer, body, compute)

    @router.post("/match", response_model=MatchResponse, tags=["matching"],
                 summary="Match a demand to technologies, with per-requirement coverage and evidence")
    def match(body: MatchRequest, viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            reqs, matches = snap.matcher.match(demand_of(body), body.top_k, visible=snap.visible(viewer))
            return {"requirements": reqs, "matches": [m.to_dict() for m in matches]}

        return snap.results.get_or_compute("match", viewer, body, compute)

    @router.post("/bundles", response_model=BundlesResponse, tags=["matching"],
                 summary="Convergence bundles: technologies of several institutions covering a demand together")
    def bundles(body: BundlesRequest, viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
        return snap.results.get_or_compute(
            "bundles", viewer, body,
            lambda: snap.matcher.bundles(demand_of(body), top_n=body.top_n, visible=snap.visible(viewer)))

    @router.post("/licensees", response_model=list[LicenseeCandidate], tags=["licensing"],
                 responses={404: {"model": Problem, "description": "no such technology (or not visible)"}},
                 summary="Licensee candidates (companies) for a technology, a bundle or a text, with evidence")
    def licensees(body: LicenseesRequest, viewer: ViewerDep, snap: SnapshotDep) -> list[dict[str, Any]]:
        def compute() -> list[dict[str, Any]]:
            found = snap.licensees.rank(technology_id=body.technology_id, text=body.text, members=body.members,
                                        top_k=body.top_k, include_institutions=body.include_institutions,
                                        visible=snap.visible(viewer))
            return [c.to_dict() for c in found]

        return snap.results.get_or_compute("licensees", viewer, body, compute)

    @router.get("/groups", tags=["matching"], summary="Convergence patent groups (특허군)",
                description="Members the calling key may not see are left out (and groups left empty).")
    def groups(viewer: ViewerDep, snap: SnapshotDep) -> list[dict[str, Any]]:
        return snap.visible_groups(viewer)

    @router.get("/technologies/{tech_id}", tags=["search"], summary="One technology record",
                responses={404: {"model": Problem, "description": "no such technology (or not visible)"}})
    def technology(tech_id: Annotated[str, PathParam(max_length=128, examples=["DEMO-0001"])],
                   viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
        return snap.technology(tech_id, viewer).to_dict()

    @router.post("/admin/reload", response_model=Reloaded, tags=["admin"], responses=_ADMIN_ERRORS,
                 summary="Serve a newly published index version now (otherwise picked up by polling)")
    def reload(viewer: AdminDep, engine: EngineDep) -> Reloaded:
        swapped = engine.check_for_update()
        return Reloaded(index_version=engine.snapshot.name, swapped=swapped)

    @router.post("/admin/keys", response_model=CreatedKey, tags=["admin"], responses=_ADMIN_ERRORS,
                 summary="Create an API key (the key is shown once)")
    def create_key(body: KeyCreateRequest, viewer: AdminDep, request: Request) -> dict[str, Any]:
        key, record = request.app.state.keys.create(body.role, body.institution)
        return {**record, "key": key}

    @router.get("/admin/keys", response_model=list[KeyInfo], tags=["admin"], responses=_ADMIN_ERRORS,
                summary="The API keys (without secrets)")
    def list_keys(viewer: AdminDep, request: Request) -> list[dict[str, Any]]:
        return request.app.state.keys.listing()  # type: ignore[no-any-return]

    return router


def create_app(settings: ServiceSettings, engine: Engine | None = None) -> FastAPI:
    engine = engine or load_engine(settings)
    keys = KeyStore(settings.keys_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not keys.records():
            log.warning("no API keys in %s: create one with 'matcher keys create --role admin --keys-file %s'",
                        settings.keys_file, settings.keys_file)
        engine.start()
        try:
            yield
        finally:
            engine.stop()

    app = FastAPI(
        title="Consortium technology matcher",
        version="0.1.0",
        description="Search member institutions' technologies for company demands (Korean and English). "
                    "Every `/api` operation needs an API key: `Authorization: Bearer KEY`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.keys = keys
    install_error_handlers(app)

    @app.get("/health", response_model=Health, tags=["service"], summary="Liveness and the served index version")
    def health(snap: SnapshotDep) -> Health:
        return Health(status="ok", index_version=snap.name, count=snap.visible_count(PUBLIC))

    app.include_router(api_router())
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="static")
    return app
