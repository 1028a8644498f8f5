"""API keys on requests: ``Authorization: Bearer KEY`` → the caller's :class:`matcher.access.Viewer`.

Missing or unknown keys are 401 (with ``WWW-Authenticate: Bearer``), an insufficient role is 403; both
are raised as library errors and rendered by the one handler in ``service/errors.py``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from matcher.access import Viewer
from matcher.errors import AuthenticationError, PermissionDeniedError
from matcher.keys import KeyStore

bearer = HTTPBearer(auto_error=False, description="an API key from `matcher keys create`, as `Bearer KEY`")


def get_viewer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Viewer:
    if credentials is None or not credentials.credentials:
        raise AuthenticationError("an API key is required: send 'Authorization: Bearer KEY'")
    keys: KeyStore = request.app.state.keys
    viewer = keys.verify(credentials.credentials)
    if viewer is None:
        raise AuthenticationError("the API key is not valid")
    return viewer


def require_admin(viewer: Annotated[Viewer, Depends(get_viewer)]) -> Viewer:
    if not viewer.is_admin:
        raise PermissionDeniedError(f"this operation needs the admin role; the key's role is {viewer.role!r}")
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
AdminDep = Annotated[Viewer, Depends(require_admin)]
