"""The service's thread policy: one BLAS/OpenMP/torch thread per request, settable by environment."""

from __future__ import annotations

from threadpoolctl import threadpool_info, threadpool_limits

from matcher.runtime import SERVING_THREADS, configure_serving, encode_slots, serving_threads, settle_heap


class Recorder:
    def __init__(self) -> None:
        self.threads: list[int] = []

    def set_threads(self, n: int) -> None:
        self.threads.append(n)


def test_defaults_and_environment(monkeypatch):
    monkeypatch.delenv("MATCHER_QUERY_THREADS", raising=False)
    monkeypatch.delenv("MATCHER_ENCODE_SLOTS", raising=False)
    assert serving_threads() == SERVING_THREADS == 1
    assert encode_slots() is None
    monkeypatch.setenv("MATCHER_QUERY_THREADS", "3")
    monkeypatch.setenv("MATCHER_ENCODE_SLOTS", "2")
    assert serving_threads() == 3 and encode_slots() == 2
    monkeypatch.setenv("MATCHER_QUERY_THREADS", "many")
    monkeypatch.setenv("MATCHER_ENCODE_SLOTS", "0")
    assert serving_threads() == SERVING_THREADS and encode_slots() is None


def test_configure_serving_sizes_every_pool(monkeypatch):
    monkeypatch.delenv("MATCHER_QUERY_THREADS", raising=False)
    before = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
    encoder = Recorder()
    try:
        assert configure_serving([encoder]) == 1
        assert encoder.threads == [1]
        assert all(i["num_threads"] == 1 for i in threadpool_info())
    finally:  # leave the test process as it was
        for info in threadpool_info():
            threadpool_limits(limits={info["prefix"]: before.get(info["filepath"], info["num_threads"])})



def test_settle_heap_freezes_the_living_and_collects_what_it_froze_before():
    import gc
    import weakref

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the cyclic collector frees it

    try:
        node = Node()
        alive = weakref.ref(node)
        settle_heap()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert alive() is not None  # frozen: out of every collection's reach (no traversal of the index)
        settle_heap()  # e.g. after a hot swap: what was frozen and became garbage is collected
        assert alive() is None and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # leave the test process as it was
