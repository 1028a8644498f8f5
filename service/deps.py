"""The one dependencies module: what a route takes from the running app, as typed ``Annotated`` deps.

Each is ``async def``: they only read the app's state, and FastAPI runs a plain ``def`` dependency in its
thread pool — a thread hop per dependency per request (about a tenth of a millisecond of CPU each, and the
GIL handed back and forth), where these take a microsecond.

Every route module (``service/routes/``) takes its inputs from here: the settings, the engine, the index
version of the request (``SnapshotDep``: taken once per request — FastAPI caches a dependency within a
request, so a route and its ``ResultsDep`` see the same version even when a swap happens meanwhile), that
version's result cache, the key store, the state database (``StateDep``), and the caller (``ViewerDep``; ``AdminDep`` refuses non-admins
with 403, ``OrganiserDep`` officers; ``KeyIdDep`` its key's id — the checks themselves are in ``service/auth.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from matcher.access import Viewer
from matcher.keys import KeyStore
from matcher.state.store import StateStore
from service.auth import get_key_id, get_viewer, require_admin, require_organiser
from service.cache import ResultCache
from service.packets import Packets
from service.settings import ServiceSettings
from service.state import Engine, Snapshot


async def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


async def get_snapshot(engine: Annotated[Engine, Depends(get_engine)]) -> Snapshot:
    """The index version this request uses from start to end (taken once; a swap does not change it)."""
    return engine.snapshot


async def get_results(snap: Annotated[Snapshot, Depends(get_snapshot)]) -> ResultCache:
    """The result cache of the request's index version (a new version never serves an old answer)."""
    return snap.results


async def get_keys(request: Request) -> KeyStore:
    return request.app.state.keys  # type: ignore[no-any-return]


async def get_state(request: Request) -> StateStore:
    """The state database (saved demands, alerts): the key store's, so the CLI and the service share it."""
    return request.app.state.keys.state  # type: ignore[no-any-return]


async def get_packets(request: Request) -> Packets:
    """Briefing packets of stored plans, made on demand and cached (``service/packets.py``)."""
    return request.app.state.packets  # type: ignore[no-any-return]


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
ResultsDep = Annotated[ResultCache, Depends(get_results)]
KeysDep = Annotated[KeyStore, Depends(get_keys)]
StateDep = Annotated[StateStore, Depends(get_state)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]
PacketsDep = Annotated[Packets, Depends(get_packets)]
AdminDep = Annotated[Viewer, Depends(require_admin)]
OrganiserDep = Annotated[Viewer, Depends(require_organiser)]
KeyIdDep = Annotated[str | None, Depends(get_key_id)]

__all__ = ["AdminDep", "EngineDep", "KeyIdDep", "KeysDep", "OrganiserDep", "PacketsDep", "ResultsDep", "SettingsDep",
           "SnapshotDep", "StateDep", "ViewerDep", "get_engine", "get_keys", "get_results", "get_settings", "get_snapshot", "get_state"]
