"""Domain errors → HTTP statuses, in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from matcher.errors import MatcherError, ValidationError

#: where a request value came from: the first element of a validation error's ``loc``
LOCATIONS = ("body", "query", "path", "header", "cookie")


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """The field a validation error is about, dotted: ``("body", "filters", "date_from")`` →
    ``filters.date_from``; ``("body", "query")`` → ``query`` (a body field named "query" is a field, not
    a location: only the first element is one). The whole body (``("body",)``) is ``body``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in LOCATIONS:
        location, parts = parts[0], parts[1:]
    else:
        location = "body"
    return ".".join(parts) or location


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MatcherError)
    async def _matcher_error(request: Request, exc: MatcherError) -> JSONResponse:
        body: dict[str, object] = {"detail": str(exc), "error": type(exc).__name__}
        if isinstance(exc, ValidationError) and exc.field:
            body["field"] = exc.field
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        return JSONResponse(status_code=exc.http_status, content=body, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        """Bad input: 422 with a one-line message naming the field(s), plus the details."""
        errors = list(exc.errors())
        fields = [_field_of(e.get("loc", ())) for e in errors]
        detail = "; ".join(f"{f}: {str(e.get('msg', 'invalid')).removeprefix('Value error, ')}"
                           for f, e in zip(fields, errors, strict=True))
        body = {"detail": detail or "invalid request", "error": "ValidationError",
                "field": fields[0] if fields else "body",
                "errors": jsonable_encoder([{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in errors])}
        return JSONResponse(status_code=422, content=body)
