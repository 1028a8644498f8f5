"""What is checked before a request's body is read: the API key of ``/api`` calls, and the body size.

:class:`GuardMiddleware` is plain ASGI (no body buffering). For every HTTP request it

1. on ``/api/*``: checks ``Authorization: Bearer KEY`` with the key store (``service/auth.py``) and answers
   401 at once when it is missing or unknown; a known key's viewer and key id go into the request's scope
   (``service.auth.VIEWER``, ``KEY_ID``), where :func:`service.auth.get_viewer` finds them;
2. refuses a declared ``Content-Length`` over ``max_body_bytes`` with 413 at once;
3. counts the body as the application reads it (chunked or mis-declared bodies) and, once it passes the
   limit, answers 413 itself and tells the application the client has gone (``http.disconnect``); whatever
   the application tries to send after that is dropped.

So a client without a key, or with too large a body, never makes the server hold more than one chunk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.errors import MatcherError
from matcher.settings import env_name
from service.auth import KEY_ID, VIEWER, authenticate

#: the setting's variable, as the 413 message cites it
LIMIT_SETTING = env_name("max_body_bytes")
#: a 413 closes the connection: the rest of the body is not wanted
CLOSE = {"Connection": "close"}


def api_path(scope: Scope) -> bool:
    """Whether the request is under ``/api`` (the part of the app that needs a key)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path == "/api" or path.startswith("/api/")


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """A JSON response shaped like every other error of the service (``{"detail", "error"}``)."""
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


def too_large(size: int, limit: int, *, at_least: bool = False) -> dict[str, str]:
    what = f"at least {size}" if at_least else str(size)
    return {"detail": f"request body is {what} bytes; the limit is {limit} bytes ({LIMIT_SETTING})",
            "error": "PayloadTooLarge"}


class GuardMiddleware:
    """The key check for ``/api`` and the body-size limit, both before the body is read (module docstring)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, keys: Callable[[], Any]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.keys = keys  # () -> KeyStore (read at call time, so a swapped store is used)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        if api_path(scope):
            try:
                record, viewer = authenticate(self.keys(), header(scope, b"authorization"))
            except MatcherError as exc:  # 401: rendered like every other library error
                await send_json(send, exc.http_status, {"detail": str(exc), "error": type(exc).__name__},
                                {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None)
                return
            # in the scope itself (one per request), not in scope["state"], which a server may share
            scope[VIEWER], scope[KEY_ID] = viewer, record.get("id")

        declared = header(scope, b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await send_json(send, 400, {"detail": f"Content-Length {declared[:40]!r} is not a number of bytes",
                                            "error": "BadRequest"})
                return
            if size > limit:
                await send_json(send, 413, too_large(size, limit), CLOSE)
                return

        received = 0
        refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await guarded_send_413()
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; the application's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def guarded_send_413() -> None:
            if not started:
                await send_json(send, 413, too_large(received, limit, at_least=True), CLOSE)

        await self.app(scope, counted_receive, guarded_send)
