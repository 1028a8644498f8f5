"""API keys on requests: ``Authorization: Bearer KEY`` → the caller's :class:`matcher.access.Viewer`.

Missing or unknown keys are 401 (with ``WWW-Authenticate: Bearer``), an insufficient role is 403; both
are raised as library errors and rendered by the one handler in ``service/errors.py``. Routes take the
caller through ``service/deps.py`` (``ViewerDep``, ``AdminDep``).

The key of an ``/api`` request is checked by :class:`service.limits.GuardMiddleware` *before* the body is
read (:func:`authenticate`); it leaves the caller in the request's scope (``VIEWER``, ``KEY_ID``), where
:func:`get_viewer` takes it. Called without that middleware, :func:`get_viewer` checks the header itself.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from matcher.access import Viewer
from matcher.errors import AuthenticationError, PermissionDeniedError
from matcher.keys import KeyStore

#: scope keys of the checked caller (set by service.limits.GuardMiddleware, or here)
VIEWER, KEY_ID = "matcher.viewer", "matcher.key_id"

bearer = HTTPBearer(auto_error=False, description="an API key from `matcher keys create`, as `Bearer KEY`")


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header value; ``None`` when absent or another scheme."""
    if not authorization:
        return None
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def authenticate(keys: KeyStore, authorization: str | None) -> tuple[dict[str, Any], Viewer]:
    """``(key record without hash, viewer)`` for an ``Authorization`` header value; 401 otherwise (also for a
    revoked or expired key: the store is read on every request, through a cache of under a second)."""
    key = bearer_key(authorization)
    if key is None:
        raise AuthenticationError("an API key is required: send 'Authorization: Bearer KEY'")
    return keys.check(key)  # unknown, revoked or expired: AuthenticationError saying which


async def get_viewer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Viewer:
    viewer = request.scope.get(VIEWER)
    if isinstance(viewer, Viewer):  # checked before the body was read (service/limits.py)
        return viewer
    # the key store may read its database: in the thread pool, as a plain ``def`` dependency would run
    record, viewer = await run_in_threadpool(authenticate, request.app.state.keys, request.headers.get("authorization"))
    request.scope[VIEWER], request.scope[KEY_ID] = viewer, record.get("id")
    return viewer


async def require_admin(viewer: Annotated[Viewer, Depends(get_viewer)]) -> Viewer:
    if not viewer.is_admin:
        raise PermissionDeniedError(f"this operation needs the admin role; the key's role is {viewer.role!r}")
    return viewer



async def require_organiser(viewer: Annotated[Viewer, Depends(get_viewer)]) -> Viewer:
    if not viewer.may_organise:
        raise PermissionDeniedError(f"this operation needs the organiser or admin role; the key's role is "
                                    f"{viewer.role!r}")
    return viewer


async def get_key_id(request: Request, viewer: Annotated[Viewer, Depends(get_viewer)]) -> str | None:
    """The id of the caller's key (checked first), for records of who did what."""
    key_id = request.scope.get(KEY_ID)
    return key_id if isinstance(key_id, str) else None
