"""Domain errors → HTTP statuses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from matcher.errors import MatcherError, ValidationError


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MatcherError)
    async def _matcher_error(request: Request, exc: MatcherError) -> JSONResponse:
        body: dict[str, object] = {"detail": str(exc), "error": type(exc).__name__}
        if isinstance(exc, ValidationError) and exc.field:
            body["field"] = exc.field
        return JSONResponse(status_code=exc.http_status, content=body)
