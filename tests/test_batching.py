"""Group commit: bursts share a write, every request still gets its own answer or error."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy.exc import OperationalError

from bot.batching import GroupCommit


class Recorder:
    """A write that holds its first batch until released, and remembers the batches it got."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()

    async def __call__(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            await self.release.wait()
        if "bad" in items:
            raise ValueError("a bad item")
        if "outage" in items:
            raise OperationalError("INSERT", {}, ConnectionRefusedError())
        return [item.upper() for item in items]


async def test_what_arrives_during_a_write_shares_the_next_one() -> None:
    write = Recorder()
    commit = GroupCommit(write, max_batch=4)
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0)  # the first write starts at once, alone
    rest = [asyncio.create_task(commit.submit(name)) for name in "bcdefg"]
    await asyncio.sleep(0)
    write.release.set()

    assert await first == "A"
    assert [await task for task in rest] == list("BCDEFG")
    assert write.batches == [["a"], ["b", "c", "d", "e"], ["f", "g"]]  # at most max_batch


async def test_a_bad_item_fails_alone() -> None:
    write = Recorder()
    write.release.set()
    commit = GroupCommit(write)
    results = await asyncio.gather(
        *(commit.submit(name) for name in ("x", "bad", "y", "z")), return_exceptions=True
    )
    assert results[0] == "X"
    assert isinstance(results[1], ValueError)
    assert results[2:] == ["Y", "Z"]
    assert write.batches == [["x", "bad", "y", "z"], ["x"], ["bad"], ["y"], ["z"]]


async def test_an_outage_fails_the_whole_batch_without_retrying_each() -> None:
    write = Recorder()
    commit = GroupCommit(write)
    first = asyncio.create_task(commit.submit("x"))
    await asyncio.sleep(0)
    others = [asyncio.create_task(commit.submit(name)) for name in ("outage", "y")]
    await asyncio.sleep(0)
    write.release.set()
    assert await first == "X"
    for task in others:
        with pytest.raises(OperationalError):
            await task
    assert write.batches == [["x"], ["outage", "y"]]


async def test_a_caller_that_leaves_does_not_cancel_the_shared_write() -> None:
    write = Recorder()
    commit = GroupCommit(write)
    leaving = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0)
    leaving.cancel()
    staying = asyncio.create_task(commit.submit("b"))
    await asyncio.sleep(0)
    write.release.set()
    assert await staying == "B"
    await commit.aclose()
    assert write.batches == [["a"], ["b"]]  # "a" was written although its caller left


async def test_no_request_is_left_waiting_when_writers_come_and_go() -> None:
    """Closed-loop clients, as a helpdesk burst looks: each waits for its answer, then sends.

    Writes take 0 or 1 loop steps, so writers often come and go while requests arrive; every
    request gets its own answer, and none is left waiting.
    """
    rounds = 0

    async def write(items: Sequence[int]) -> list[int]:
        nonlocal rounds
        rounds += 1
        if rounds % 3:
            await asyncio.sleep(0)
        return [item * 2 for item in items]

    commit = GroupCommit(write, max_batch=5, writers=2)

    async def client(number: int) -> int:
        total = 0
        for step in range(50):
            total += await commit.submit(number * 1000 + step)
            if (number + step) % 4 == 0:
                await asyncio.sleep(0)
        return total

    totals = await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(16))), timeout=10)
    assert totals == [sum(2 * (n * 1000 + step) for step in range(50)) for n in range(16)]
    await commit.aclose()


async def test_an_item_that_arrives_as_the_last_writer_finishes_is_written() -> None:
    """The one moment that matters: the writer has looked at an empty queue and is ending.

    A request whose first step was already scheduled (here: created during the write) runs
    before the writer's task is marked done; it must start a writer of its own.
    """
    later: list[asyncio.Task[str]] = []

    async def write(items: Sequence[str]) -> list[str]:
        if list(items) == ["a"]:
            later.append(asyncio.create_task(commit.submit("b")))
        return [item.upper() for item in items]

    commit = GroupCommit(write, writers=1)
    assert await commit.submit("a") == "A"
    assert await asyncio.wait_for(later[0], timeout=2) == "B"
