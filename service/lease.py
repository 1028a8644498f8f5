"""The service's lease on the index version it serves (``matcher/store/leases.py``), kept fresh by a thread.

While the app runs, ``INDEX/leases/<host>-<pid>-<token>.json`` names the version of the current snapshot;
it is renewed every third of its lifetime (``MATCHER_LEASE_SECONDS``, default 120) and at once when the
engine swaps to another version, and removed at shutdown. Retention (``matcher build --keep``) never
deletes a version with a live lease. An index directory the service cannot write to is served all the
same: the failure is logged once and nothing is protected.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from matcher.store.leases import Lease
from service.state import Engine

log = logging.getLogger("matcher.service")


class LeaseKeeper:
    """Holds and renews this process's lease on ``engine``'s served version in ``root``."""

    def __init__(self, engine: Engine, root: str | Path, seconds: float | None = None) -> None:
        self.engine = engine
        self.lease = Lease(root, seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0
        self._failed = False

    def renew(self) -> None:
        """Renew now with the version being served (a failure is logged once, not raised)."""
        name = self.engine.snapshot.name
        try:
            self.lease.renew(name)
        except OSError as exc:
            if not self._failed:
                log.warning("cannot write the index lease %s (%s); retention will not know version %s is served",
                            self.lease.path, exc, name)
            self._failed = True
            return
        self._failed = False
        self._renewed = time.monotonic()

    def _run(self) -> None:
        every = self.lease.seconds / 3
        while not self._stop.wait(min(1.0, every)):
            if self.engine.snapshot.name != self.lease.version or time.monotonic() - self._renewed >= every:
                self.renew()

    def start(self) -> None:
        if self._thread is not None:
            return
        self.renew()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="index-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.lease.release()
        except OSError:  # pragma: no cover - a read-only directory: the lease expires by itself
            pass
