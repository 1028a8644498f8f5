"""The error answers routes document (``{"detail", "error", "field"}``, rendered by ``service/errors.py``)."""

from __future__ import annotations

from typing import Any

from service.schemas import Problem

Responses = dict[int | str, dict[str, Any]]

#: every /api route
API_ERRORS: Responses = {
    401: {"model": Problem, "description": "no API key, or an unknown, revoked or expired one (answered before the "
                                           "body is read)"},
    413: {"model": Problem, "description": "the request body is over the limit (`MATCHER_MAX_BODY_BYTES`)"},
    422: {"model": Problem, "description": "bad input; `field` names it"},
}
#: admin-only routes
ADMIN_ERRORS: Responses = {403: {"model": Problem, "description": "the key's role is not admin"}}
#: organiser routes (plan, publish meetings)
ORGANISER_ERRORS: Responses = {403: {"model": Problem, "description": "the key's role is neither organiser nor admin"}}
#: routes about one meeting plan
PLAN_NOT_FOUND: Responses = {404: {"model": Problem, "description": "no such meeting plan (or none the key may see)"}}
#: routes about one technology
TECH_NOT_FOUND: Responses = {404: {"model": Problem, "description": "no such technology (or not visible)"}}
