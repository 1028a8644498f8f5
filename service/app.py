"""``create_app(settings)``: the FastAPI application over one index directory.

The current index version is loaded once, when the app is created. Static files of the officers'
page are served at ``/``; the API lives under ``/api``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from service.errors import install_error_handlers
from service.schemas import Health, SearchHit, SearchRequest
from service.settings import ServiceSettings
from service.state import Engine, load_engine

STATIC = Path(__file__).resolve().parent / "static"


def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


EngineDep = Annotated[Engine, Depends(get_engine)]


def create_app(settings: ServiceSettings, engine: Engine | None = None) -> FastAPI:
    app = FastAPI(
        title="Consortium technology matcher",
        version="0.1.0",
        description="Search member institutions' technologies for company demands (Korean and English).",
    )
    app.state.settings = settings
    app.state.engine = engine or load_engine(settings)
    install_error_handlers(app)

    @app.get("/health", response_model=Health, tags=["service"])
    def health(engine: EngineDep) -> Health:
        return Health(status="ok", index_version=engine.version.name, count=len(engine.version.technologies))

    @app.get("/api/index", tags=["service"], summary="The served index version's manifest")
    def index_info(engine: EngineDep) -> dict[str, Any]:
        return engine.version.manifest

    @app.post("/api/search", response_model=list[SearchHit], tags=["search"])
    def search(body: SearchRequest, engine: EngineDep) -> list[dict[str, Any]]:
        return [h.to_dict() for h in engine.searcher.search(body.query, body.top_k)]

    app.mount("/", StaticFiles(directory=STATIC, html=True), name="static")
    return app
