"""``create_app(settings)``: the FastAPI application over one index directory.

The current index version is loaded once, when the app is created, and replaced without a restart
when a new version is published (``service/state.py``). Every ``/api`` operation needs an API key
(``service/auth.py``, checked before the body is read by ``service/limits.py``, which also limits the
body size) and sees only the technologies its key may see (``matcher/access.py``); each ``/api`` call
is written to the audit log (``service/audit.py``). ``/health``, ``/openapi.json``, ``/docs`` (assets
served locally) and the officers' page at ``/`` are open.

This module wires the app: state, error handlers (``service/errors.py``), middlewares, lifespan and the
routers of ``service/routes/`` (whose inputs come from ``service/deps.py``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from matcher.keys import KeyStore
from service.audit import AuditLog, AuditMiddleware
from service.balance import LOAD_FILE_VARIABLE, BalanceMiddleware, WorkerLoad
from service.errors import install_error_handlers
from service.lease import LeaseKeeper
from service.limits import GuardMiddleware
from service.packets import Packets
from service.routes import ROUTERS
from service.settings import ServiceSettings
from service.state import Engine, load_engine

STATIC = Path(__file__).resolve().parent / "static"
#: where the Swagger UI / ReDoc assets of /docs and /redoc are served from (fastapi-offline's files)
DOCS_ASSETS = "/docs-assets"
log = logging.getLogger("matcher.service")


def create_app_from_env() -> FastAPI:
    """:func:`create_app` with the settings of the ``MATCHER_*`` variables: the factory each process of
    ``matcher serve --workers N`` calls."""
    load_file = os.environ.get(LOAD_FILE_VARIABLE)
    return create_app(ServiceSettings.from_env(), balance=WorkerLoad.join(Path(load_file)) if load_file else None)


def create_app(settings: ServiceSettings, engine: Engine | None = None, *, balance: WorkerLoad | None = None) -> FastAPI:
    """The app over ``settings``' index (or ``engine``); ``balance``: this worker's slot among several
    (``matcher serve --workers N``), so it hands a connection back when it is the loaded one."""
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
    app.state.packets = Packets(settings.keys_file.parent / "packets")  # briefing packets, made on demand
    install_error_handlers(app)
    # the key (for /api) and the body size are checked before a body is read; the audit line is written
    # around both, so refused calls are recorded too (the last middleware added is the outermost)
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes, keys=lambda: app.state.keys)
    if audit is not None:
        app.add_middleware(AuditMiddleware, audit=audit, queries=settings.audit_queries)
    if balance is not None:  # outermost: every request counts while it is in flight
        app.add_middleware(BalanceMiddleware, load=balance)

    for router in ROUTERS:  # service/routes/: one module per area, their inputs from service/deps.py
        app.include_router(router)
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="static")
    return app
