"""Even load across ``matcher serve --workers N``: a loaded worker hands a keep-alive connection back.

uvicorn's workers accept from one shared socket, whichever is first, and an HTTP/1.1 client keeps its
connection, so 4 clients often end up 3 + 1 or 4 + 0 on 2 workers and one core idles while the other
queues (bench/README.md: 62 requests/s against 84 for a single worker). Here every worker counts its
requests in flight in a small file shared by all of them (one slot each: its pid and its count). When a
worker starts a response while it has at least two more requests in flight than the least loaded worker,
the response says ``Connection: close``; the client's next request opens a new connection, which the less
loaded worker (waiting in its event loop, not computing) is the likelier to accept. Balanced workers
(2 + 2, or 8 + 8 at 16 clients) shed nothing, so connections are kept.

:func:`create_load_file` is called by the supervisor (``matcher serve``) before the workers start; each
worker opens it with :meth:`WorkerLoad.join` and wraps its app in :class:`BalanceMiddleware`.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import tempfile
from pathlib import Path

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the variable that tells a worker where the supervisor's load file is (set by ``matcher serve``, not a setting)
LOAD_FILE_VARIABLE = "MATCHER_INTERNAL_WORKER_LOAD_FILE"
#: slots per worker: a restarted worker takes a dead one's slot, so twice the workers is plenty
_SLOTS_PER_WORKER = 2



def create_load_file(workers: int, directory: Path | None = None) -> Path:
    """A zeroed load file for ``workers`` workers (in ``/dev/shm`` where there is one: memory, not disk)."""
    if workers < 1:
        raise ValueError(f"workers must be ≥ 1, got {workers}")
    shm = Path("/dev/shm")
    where = directory or (shm if shm.is_dir() and os.access(shm, os.W_OK) else None)
    fd, name = tempfile.mkstemp(prefix="matcher-worker-load-", suffix=".bin", dir=where)
    with os.fdopen(fd, "wb") as out:
        out.write(bytes(16 * _SLOTS_PER_WORKER * workers))
    return Path(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        pass
    return True


class WorkerLoad:
    """This worker's slot in the shared load file, and a look at every worker's requests in flight."""

    def __init__(self, path: Path, slots: np.ndarray, mapping: mmap.mmap, slot: int) -> None:
        self.path, self._slots, self._mapping, self.slot = path, slots, mapping, slot

    @classmethod
    def join(cls, path: Path) -> WorkerLoad:
        """Take a free slot (never used, or its worker dead) in the load file at ``path``."""
        with path.open("r+b") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0 or size % 16:
                raise ValueError(f"{path} is not a worker load file ({size} bytes; want a multiple of 16)")
            mapping = mmap.mmap(handle.fileno(), size)
            fcntl.flock(handle, fcntl.LOCK_EX)  # one worker claims at a time
            try:
                slots = np.frombuffer(mapping, dtype=np.int64).reshape(-1, 2)  # (pid, requests in flight)
                free = [i for i, pid in enumerate(slots[:, 0]) if pid == 0 or not _alive(int(pid))]
                if not free:
                    raise RuntimeError(f"no free slot in {path}: {len(slots)} slots, every one held by a live worker")
                slot = free[0]
                slots[slot] = (os.getpid(), 0)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return cls(path, slots, mapping, slot)

    def started(self) -> None:
        self._slots[self.slot, 1] += 1

    def finished(self) -> None:
        self._slots[self.slot, 1] -= 1

    def in_flight(self) -> int:
        return int(self._slots[self.slot, 1])

    def should_shed(self) -> bool:
        """Whether this worker has at least two more requests in flight than some other live worker."""
        mine = self.in_flight()
        if mine < 2:  # no other worker can have two fewer: no look needed
            return False
        return any(i != self.slot and pid != 0 and n < mine - 1 and _alive(int(pid))
                   for i, (pid, n) in enumerate(self._slots.tolist()))


class BalanceMiddleware:
    """Counts this worker's HTTP requests in flight and closes a connection when the worker is the loaded one."""

    def __init__(self, app: ASGIApp, load: WorkerLoad) -> None:
        self.app, self.load = app, load

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        load = self.load

        async def send_shedding(message: Message) -> None:
            if message["type"] == "http.response.start" and load.should_shed():
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        load.started()
        try:
            await self.app(scope, receive, send_shedding)
        finally:
            load.finished()
