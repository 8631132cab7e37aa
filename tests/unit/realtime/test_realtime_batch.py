"""Batcher (concurrent look-ups share one query) and Admission (bounded wait, then Busy)."""

from __future__ import annotations

import asyncio

import pytest

from realtime.admission import Admission, Busy
from realtime.batch import Batcher


class Store:
    def __init__(self) -> None:
        self.data = {f"k{n}": n for n in range(100)}
        self.queries: list[list[str]] = []
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def fetch(self, keys: list[str]) -> dict[str, int]:
        self.queries.append(keys)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("database down")
        return {k: self.data[k] for k in keys if k in self.data}


async def test_concurrent_gets_share_one_query() -> None:
    store = Store()
    batcher = Batcher(store.fetch)
    got = await asyncio.gather(*(batcher.get(f"k{n}") for n in range(50)), batcher.get("nope"))
    assert got == [*range(50), None]
    assert len(store.queries) == 1
    assert (batcher.keys, batcher.queries) == (51, 1)


async def test_gets_during_a_query_go_in_the_next_one() -> None:
    store = Store()
    store.gate = asyncio.Event()
    batcher = Batcher(store.fetch)
    first = asyncio.create_task(batcher.get("k1"))
    await asyncio.sleep(0.01)
    later = [asyncio.create_task(batcher.get(f"k{n}")) for n in (2, 3, 3)]
    await asyncio.sleep(0.01)
    store.gate.set()
    assert await first == 1
    assert [await t for t in later] == [2, 3, 3]
    assert store.queries == [["k1"], ["k2", "k3"]]


async def test_a_batch_holds_at_most_max_batch_keys() -> None:
    store = Store()
    batcher = Batcher(store.fetch, max_batch=10)
    got = await asyncio.gather(*(batcher.get(f"k{n}") for n in range(25)))
    assert got == list(range(25))
    assert [len(q) for q in store.queries] == [10, 10, 5]


async def test_nothing_is_cached_between_queries() -> None:
    store = Store()
    batcher = Batcher(store.fetch)
    assert await batcher.get("k7") == 7
    del store.data["k7"]  # e.g. the link was revoked
    assert await batcher.get("k7") is None


async def test_a_failed_query_fails_its_callers_and_not_the_next() -> None:
    store = Store()
    store.fail = True
    batcher = Batcher(store.fetch)
    results = await asyncio.gather(batcher.get("k1"), batcher.get("k2"), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    store.fail = False
    assert await batcher.get("k1") == 1


async def test_a_caller_giving_up_does_not_fail_the_others() -> None:
    store = Store()
    store.gate = asyncio.Event()
    batcher = Batcher(store.fetch)
    impatient = asyncio.create_task(batcher.get("k5"))
    patient = asyncio.create_task(batcher.get("k5"))
    await asyncio.sleep(0.01)
    impatient.cancel()
    store.gate.set()
    assert await patient == 5


async def test_admission_refuses_beyond_the_queue_and_admits_later() -> None:
    admission = Admission(limit=2, queue=1)
    release = asyncio.Event()
    entered: list[int] = []

    async def work(n: int) -> None:
        async with admission.slot():
            entered.append(n)
            await release.wait()

    tasks = [asyncio.create_task(work(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert (entered, admission.running, admission.waiting) == ([0, 1], 2, 1)
    with pytest.raises(Busy):
        async with admission.slot():
            pass
    assert admission.refused == 1
    release.set()
    await asyncio.gather(*tasks)
    assert entered == [0, 1, 2]
    async with admission.slot():
        assert admission.running == 1


def test_admission_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        Admission(limit=0, queue=1)
    with pytest.raises(ValueError):
        Batcher(Store().fetch, max_batch=0)


async def test_callers_are_not_left_hanging_when_the_query_is_cancelled() -> None:
    store = Store()
    store.gate = asyncio.Event()
    batcher = Batcher(store.fetch)
    caller = asyncio.create_task(batcher.get("k1"))
    await asyncio.sleep(0.01)
    runner = batcher._runner
    assert runner is not None
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(caller, 1)


async def test_gets_within_the_window_share_the_first_query() -> None:
    store = Store()
    batcher = Batcher(store.fetch, window=0.05)
    first = asyncio.create_task(batcher.get("k1"))
    await asyncio.sleep(0.01)  # a later turn of the loop, still within the window
    assert await asyncio.gather(first, batcher.get("k2")) == [1, 2]
    assert store.queries == [["k1", "k2"]]
    # Without a window, the later turn gets a query of its own.
    store.queries.clear()
    bare = Batcher(store.fetch)
    first = asyncio.create_task(bare.get("k1"))
    await asyncio.sleep(0.01)
    assert await asyncio.gather(first, bare.get("k2")) == [1, 2]
    assert store.queries == [["k1"], ["k2"]]
    with pytest.raises(ValueError):
        Batcher(store.fetch, window=-1)
