"""Workers' shared load file and the middleware that hands a connection back (service/balance.py)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.balance import BalanceMiddleware, WorkerLoad, create_load_file


def _slots(path: Path) -> np.ndarray:
    return np.frombuffer(path.read_bytes(), dtype=np.int64).reshape(-1, 2)


def _hold_slot(path: str, ready: Any, done: Any) -> None:
    load = WorkerLoad.join(Path(path))
    load.started()
    ready.set()
    done.wait(30)


def test_workers_take_distinct_slots_and_see_each_other(tmp_path: Path) -> None:
    path = create_load_file(2, tmp_path)
    assert _slots(path).shape == (4, 2) and not _slots(path).any()
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_slot, args=(str(path), ready, done))
    other.start()
    try:
        assert ready.wait(60)
        me = WorkerLoad.join(path)
        pids = _slots(path)[:, 0].tolist()
        assert os.getpid() in pids and other.pid in pids and me.slot == pids.index(os.getpid())
        # the other worker has one request in flight: this one sheds only from three (two more than it)
        for expected in (False, False, True):
            me.started()
            assert me.should_shed() is expected
        me.finished()
        assert me.in_flight() == 2 and not me.should_shed()
    finally:
        done.set()
        other.join(30)
    # a dead worker's slot is taken again, and a dead worker's count does not make anyone shed
    me.started()
    assert me.in_flight() == 3 and not me.should_shed()
    again = WorkerLoad.join(path)
    assert again.slot != me.slot


def test_a_worker_alone_never_sheds(tmp_path: Path) -> None:
    load = WorkerLoad.join(create_load_file(1, tmp_path))
    for _ in range(5):
        load.started()
    assert not load.should_shed()


def test_not_a_load_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"123")
    with pytest.raises(ValueError, match="x.bin is not a worker load file"):
        WorkerLoad.join(bad)
    with pytest.raises(ValueError, match="workers must be"):
        create_load_file(0, tmp_path)


def test_middleware_counts_requests_and_closes_the_loaded_workers_connection(tmp_path: Path) -> None:
    path = create_load_file(2, tmp_path)
    me = WorkerLoad.join(path)
    seen: list[int] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        seen.append(me.in_flight())
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def run() -> list[dict]:
        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)

        await BalanceMiddleware(app, me)({"type": "http"}, None, send)  # type: ignore[arg-type]
        return sent

    # another live worker (this test process's parent stands in for it) with nothing in flight
    free = [i for i in range(4) if i != me.slot][0]
    with path.open("r+b") as handle:
        handle.seek(free * 16)
        handle.write(np.array([os.getppid(), 0], dtype=np.int64).tobytes())
    sent = asyncio.run(run())
    assert seen == [1] and me.in_flight() == 0
    assert (b"connection", b"close") not in sent[0]["headers"]
    me.started()  # one request already in flight here: the next one makes two more than the idle worker
    sent = asyncio.run(run())
    assert seen[-1] == 2 and (b"connection", b"close") in sent[0]["headers"]
    assert me.in_flight() == 1
