"""The audit log: one JSON line per ``/api`` call — who (key id, never the key), what, and how it ended.

A line holds ``time`` (UTC, ISO 8601 with milliseconds), ``key_id``, ``role``, ``institution`` (of the key;
``null`` when no valid key was sent), ``method``, ``route`` (the route template, e.g.
``/api/technologies/{tech_id}``; the raw path when no route matched), ``status``, ``latency_ms`` and
``request_bytes``. With ``audit_queries`` (``MATCHER_AUDIT_QUERIES``) it also holds ``query``: the search
query or the demand's ``text`` and ``requirements`` of the request body (each cut to
:data:`MAX_LOGGED_CHARS`); without it no request text is written. Headers, keys and responses are
never written.

:class:`AuditLog` is a small thread-safe append-only writer (file mode 0600, one ``write`` + ``flush`` per
line); :class:`AuditMiddleware` (plain ASGI, outside :class:`service.limits.GuardMiddleware`, so refused
calls are recorded too) measures each call and hands the line to it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import IO, Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.files import json_line
from service.auth import KEY_ID, VIEWER
from service.limits import api_path

log = logging.getLogger("matcher.service")
#: request fields whose text ``audit_queries`` lets into the log
QUERY_FIELDS = ("query", "text", "requirements", "technology_id", "members")
MAX_LOGGED_CHARS = 5000
#: bytes of a request body kept for ``audit_queries`` (the body limit bounds it anyway)
MAX_CAPTURE_BYTES = 1 << 20


class AuditLog:
    """Appends JSON lines to ``path`` (created with its directory on the first line, mode 0600)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fh: IO[str] | None = None
        self._failed = False

    def write(self, entry: dict[str, Any]) -> None:
        line = json_line(entry, compact=True)
        with self._lock:
            try:
                if self._fh is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                    self._fh = os.fdopen(fd, "a", encoding="utf-8")
                self._fh.write(line)
                self._fh.flush()
                self._failed = False
            except OSError as exc:  # the service keeps answering; the failure is logged once per run of them
                if not self._failed:
                    log.error("cannot write the audit log %s: %s", self.path, exc)
                self._failed = True
                self.close_locked()

    def close_locked(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


def route_template(scope: Scope) -> str:
    """The matched route's template (``/api/technologies/{tech_id}``), else the raw path."""
    route = scope.get("route")
    if route is None:  # answered before routing (401, 413): find the route the router would take
        app = scope.get("app")
        for candidate in getattr(getattr(app, "router", None), "routes", ()):
            try:
                match, _ = candidate.matches({**scope, "path_params": {}})
            except Exception:  # noqa: BLE001 - a route that cannot judge this scope is skipped
                continue
            if match is Match.FULL:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else str(scope.get("path", ""))


def query_fields(body: bytes) -> dict[str, Any] | None:
    """The query texts of a JSON request body (``QUERY_FIELDS``), or ``None``."""
    if not body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None

    def cut(value: Any) -> Any:
        if isinstance(value, str):
            return value[:MAX_LOGGED_CHARS]
        if isinstance(value, list):
            return [cut(v) for v in value[:50]]
        return None

    out = {k: cut(data[k]) for k in QUERY_FIELDS if k in data and data[k] is not None}
    return out or None


class AuditMiddleware:
    """Writes one :class:`AuditLog` line per ``/api`` call (module docstring)."""

    def __init__(self, app: ASGIApp, *, audit: AuditLog, queries: bool = False) -> None:
        self.app = app
        self.audit = audit
        self.queries = queries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not api_path(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        size = 0
        captured = bytearray()

        async def counting_receive() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                size += len(chunk)
                if self.queries and len(captured) < MAX_CAPTURE_BYTES:
                    captured.extend(chunk[: MAX_CAPTURE_BYTES - len(captured)])
            return message

        async def status_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, counting_receive, status_send)
        except BaseException:
            status = status or 500
            raise
        finally:
            self.audit.write(self.entry(scope, status, started, size, bytes(captured)))

    def entry(self, scope: Scope, status: int, started: float, size: int, body: bytes) -> dict[str, Any]:
        viewer = scope.get(VIEWER)
        now = time.time()
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z",
            "key_id": scope.get(KEY_ID),
            "role": getattr(viewer, "role", None),
            "institution": getattr(viewer, "institution", None),
            "method": scope.get("method"),
            "route": route_template(scope),
            "status": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "request_bytes": size,
        }
        if self.queries:
            fields = query_fields(body)
            if fields:
                entry["query"] = fields
        return entry
