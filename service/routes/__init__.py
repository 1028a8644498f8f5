"""The API's routes, one module per area; ``service/app.py`` includes :data:`ROUTERS` in this order.

Every route takes what it needs from ``service/deps.py`` and declares its response model (or, for the
export files, its media types), so ``/openapi.json`` has a real schema for every answer.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.routes import (
    admin,
    admin_index,
    catalog,
    demands,
    export,
    health,
    licensees,
    match,
    meetings,
    search,
)

ROUTERS: tuple[APIRouter, ...] = (health.router, catalog.router, search.router, match.router, licensees.router,
                                  demands.router, meetings.router, export.router, admin.router, admin_index.router)
