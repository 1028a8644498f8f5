"""``create_app(settings)``: the FastAPI application over one index directory.

The current index version is loaded once, when the app is created, and replaced without a restart
when a new version is published (``service/state.py``). Every ``/api`` operation needs an API key
(``service/auth.py``, checked before the body is read by ``service/limits.py``, which also limits the
body size) and sees only the technologies its key may see (``matcher/access.py``); each ``/api`` call
is written to the audit log (``service/audit.py``). ``/health``, ``/openapi.json``, ``/docs`` (assets
served locally) and the officers' page at ``/`` are open.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from matcher.access import Viewer
from matcher.errors import NotFoundError
from matcher.keys import KeyStore
from matcher.records import DemandProfile
from service import export
from service.audit import AuditLog, AuditMiddleware
from service.auth import AdminDep, ViewerDep
from service.errors import install_error_handlers
from service.institutions import institution_listing
from service.key_routes import key_router
from service.lease import LeaseKeeper
from service.limits import GuardMiddleware
from service.redact import technology_for_officers
from service.routes_admin_index import admin_index_router
from service.schemas import (
    BundlesRequest,
    BundlesResponse,
    CreatedKey,
    DemandRequest,
    ExportFormat,
    Health,
    InstitutionInfo,
    KeyCreateRequest,
    KeyInfo,
    LicenseesRequest,
    LicenseesResponse,
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
#: where the Swagger UI / ReDoc assets of /docs and /redoc are served from (fastapi-offline's files)
DOCS_ASSETS = "/docs-assets"
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
    401: {"model": Problem, "description": "no API key, or an unknown one (answered before the body is read)"},
    413: {"model": Problem, "description": "the request body is over the limit (`MATCHER_MAX_BODY_BYTES`)"},
    422: {"model": Problem, "description": "bad input; `field` names it"},
}
_ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "the key's role is not admin"},
}


def demand_of(body: DemandRequest) -> DemandProfile:
    return DemandProfile(text=body.text or "", requirements=tuple(body.requirements or ()), filters=body.filter_dict())


def record_lookup(snap: Snapshot, viewer: Viewer) -> export.Lookup:
    """Technology id → its record as a dict, for what ``viewer`` may see (``None`` otherwise)."""
    def lookup(tech_id: str) -> dict[str, Any] | None:
        try:
            return snap.technology(tech_id, viewer).to_dict()
        except NotFoundError:
            return None
    return lookup


def export_file(kind: str, response: Any, fmt: str, lookup: export.Lookup) -> Response:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Response(content=export.render(kind, response, fmt, lookup), media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{stamp}.{fmt}"'})


_EXPORT = {200: {"content": {media: {} for media in export.MEDIA_TYPES.values()},
                 "description": "the file (CSV: UTF-8 with a byte-order mark; XLSX: one sheet)"}}
FormatQuery = Annotated[ExportFormat, Query(alias="format", description="csv or xlsx")]


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
            return snap.matcher.match(demand_of(body), body.top_k, visible=snap.visible(viewer),
                                      include_inactive=body.include_inactive,
                                      min_relevance=body.min_relevance).to_dict()

        return snap.results.get_or_compute("match", viewer, body, compute)

    @router.post("/bundles", response_model=BundlesResponse, tags=["matching"],
                 summary="Convergence bundles: technologies of several institutions covering a demand together")
    def bundles(body: BundlesRequest, viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
        return snap.results.get_or_compute(
            "bundles", viewer, body,
            lambda: snap.matcher.bundles(demand_of(body), top_n=body.top_n, visible=snap.visible(viewer),
                                         include_inactive=body.include_inactive))

    @router.post("/licensees", response_model=LicenseesResponse, tags=["licensing"],
                 responses={404: {"model": Problem, "description": "no such technology (or not visible)"}},
                 summary="Licensee candidates (companies) for a technology, a bundle or a text, with evidence")
    def licensees(body: LicenseesRequest, viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            return snap.licensees.rank(technology_id=body.technology_id, text=body.text, members=body.members,
                                       top_k=body.top_k, include_institutions=body.include_institutions,
                                       visible=snap.visible(viewer), include_inactive=body.include_inactive).to_dict()

        return snap.results.get_or_compute("licensees", viewer, body, compute)

    @router.get("/institutions", response_model=list[InstitutionInfo], tags=["service"],
                summary="Institutions with technologies the calling key may see (for filters)",
                description="Canonical names, their other spellings and the number of visible technologies.")
    def institutions(viewer: ViewerDep, snap: SnapshotDep) -> list[dict[str, Any]]:
        return institution_listing(snap.version.technologies, snap.visible(viewer), snap.version.registry)

    @router.post("/export/matches", tags=["export"], response_class=Response, responses=_EXPORT,
                 summary="The answer of POST /api/match as a CSV or XLSX file (one row per match)")
    def export_matches(body: MatchRequest, viewer: ViewerDep, snap: SnapshotDep, fmt: FormatQuery = "csv") -> Response:
        return export_file("matches", match(body, viewer, snap), fmt, record_lookup(snap, viewer))

    @router.post("/export/bundles", tags=["export"], response_class=Response, responses=_EXPORT,
                 summary="The answer of POST /api/bundles as a CSV or XLSX file (one row per bundle requirement)")
    def export_bundles(body: BundlesRequest, viewer: ViewerDep, snap: SnapshotDep,
                       fmt: FormatQuery = "csv") -> Response:
        return export_file("bundles", bundles(body, viewer, snap), fmt, record_lookup(snap, viewer))

    @router.post("/export/licensees", tags=["export"], response_class=Response,
                 responses={**_EXPORT, 404: {"model": Problem, "description": "no such technology (or not visible)"}},
                 summary="The answer of POST /api/licensees as a CSV or XLSX file (one row per candidate)")
    def export_licensees(body: LicenseesRequest, viewer: ViewerDep, snap: SnapshotDep,
                         fmt: FormatQuery = "csv") -> Response:
        return export_file("licensees", licensees(body, viewer, snap), fmt, record_lookup(snap, viewer))

    @router.get("/groups", tags=["matching"], summary="Convergence patent groups (특허군)",
                description="Members the calling key may not see are left out (and groups left empty).")
    def groups(viewer: ViewerDep, snap: SnapshotDep) -> list[dict[str, Any]]:
        return snap.visible_groups(viewer)

    @router.get("/technologies/{tech_id}", tags=["search"], summary="One technology record",
                responses={404: {"model": Problem, "description": "no such technology (or not visible)"}})
    def technology(tech_id: Annotated[str, PathParam(max_length=128, examples=["DEMO-0001"])],
                   viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
        record = snap.technology(tech_id, viewer).to_dict()
        return record if viewer.is_admin else technology_for_officers(record)  # no server paths for officers

    @router.post("/admin/reload", response_model=Reloaded, tags=["admin"], responses=_ADMIN_ERRORS,
                 summary="Serve a newly published index version now (otherwise picked up by polling)")
    def reload(viewer: AdminDep, engine: EngineDep) -> Reloaded:
        swapped = engine.check_for_update()
        return Reloaded(index_version=engine.snapshot.name, swapped=swapped)

    @router.post("/admin/keys", response_model=CreatedKey, tags=["admin"], responses=_ADMIN_ERRORS,
                 summary="Create an API key (the key is shown once)")
    def create_key(body: KeyCreateRequest, viewer: AdminDep, snap: SnapshotDep, request: Request) -> dict[str, Any]:
        institution = snap.version.registry.resolve(body.institution) if body.institution else None
        key, record = request.app.state.keys.create(body.role, institution, expires=body.expires, label=body.label)
        return {**record, "key": key}

    @router.get("/admin/keys", response_model=list[KeyInfo], tags=["admin"], responses=_ADMIN_ERRORS,
                summary="The API keys (without secrets)")
    def list_keys(viewer: AdminDep, request: Request) -> list[dict[str, Any]]:
        return request.app.state.keys.listing()  # type: ignore[no-any-return]

    return router


def create_app(settings: ServiceSettings, engine: Engine | None = None) -> FastAPI:
    engine = engine or load_engine(settings)
    keys = KeyStore(settings.keys_file, settings.database_url, touch_in_background=True)
    audit = AuditLog(settings.audit_log) if settings.audit_log else None
    lease = LeaseKeeper(engine, engine.store.root) if engine.store is not None else None  # retention spares it

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not keys.records():
            log.warning("no API keys in %s: create one with 'matcher keys create --role admin --keys-file %s'",
                        keys.location, settings.keys_file)
        log.info("request bodies up to %d bytes; audit log: %s%s", settings.max_body_bytes,
                 settings.audit_log or "none", " (with query texts)" if audit is not None and settings.audit_queries else "")
        engine.start()
        if lease is not None:
            lease.start()
        try:
            yield
        finally:
            if lease is not None:
                lease.stop()
            engine.stop()
            keys.close()
            if audit is not None:
                audit.close()

    # FastAPIOffline: /docs and /redoc load Swagger UI and ReDoc from the package's own files (no CDN)
    app = FastAPIOffline(
        title="Consortium technology matcher",
        version="0.1.0",
        description="Search member institutions' technologies for company demands (Korean and English). "
                    "Every `/api` operation needs an API key: `Authorization: Bearer KEY`. Request bodies "
                    f"over {settings.max_body_bytes:,} bytes are refused (413).",
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.keys = keys
    app.state.audit = audit
    install_error_handlers(app)
    # the key (for /api) and the body size are checked before a body is read; the audit line is written
    # around both, so refused calls are recorded too (the last middleware added is the outermost)
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes, keys=lambda: app.state.keys)
    if audit is not None:
        app.add_middleware(AuditMiddleware, audit=audit, queries=settings.audit_queries)

    @app.get("/health", response_model=Health, tags=["service"], summary="Liveness and the served index version")
    def health(snap: SnapshotDep) -> Health:
        return Health(status="ok", index_version=snap.name, count=snap.visible_count(PUBLIC))

    app.include_router(api_router())
    app.include_router(admin_index_router())
    app.include_router(key_router())  # revoke (service/key_routes.py)
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="static")
    return app
