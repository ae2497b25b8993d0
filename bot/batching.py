"""Group commit: requests that arrive while a write is in flight share the next write.

A burst of helpdesk webhooks, or of Telegram answers to record, would otherwise cost a
transaction each. Here the first request starts a write at once (no added latency when it is
quiet); whatever arrives meanwhile goes in the next write, up to ``max_batch`` at a time.
``writers`` writes may be in flight together, so the process prepares the next batch while the
database works on the last one. Each request still gets its own answer, or its own error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.resilience import is_outage

logger = logging.getLogger(__name__)

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


@dataclass(slots=True)
class GroupCommit(Generic[ItemT, ResultT]):
    """Runs ``write`` on batches of submitted items, one batch at a time.

    ``write`` gets the items in arrival order and returns one result per item, in that order.
    When it fails for a batch of several, each item is written alone, so one bad item cannot
    fail the others; a database outage fails the whole batch at once (it would fail each alone).
    """

    write: Callable[[Sequence[ItemT]], Awaitable[Sequence[ResultT]]]
    max_batch: int = 200
    writers: int = 2
    _waiting: list[tuple[ItemT, asyncio.Future[ResultT]]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Writers that may still take items. Counted by the writers themselves, in the same step as
    # their last look at the queue: a task's done-callback runs a step later, and an item that
    # came in between would find every writer "running" and wait for one that never comes.
    _active: int = 0

    async def submit(self, item: ItemT) -> ResultT:
        """Write ``item`` with whatever else is waiting; returns its own result."""
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)  # no "never retrieved" noise if the caller left
        self._waiting.append((item, future))
        if self._active < self.writers:
            self._active += 1
            writer = asyncio.create_task(self._drain(), name="intake-group-commit")
            self._tasks.add(writer)
            writer.add_done_callback(self._tasks.discard)
        # Awaited bare, not through asyncio.shield (a second future and its callbacks per
        # request): a cancelled request (the client hung up) cancels only its own future, which
        # the writer then leaves alone; the write others share is a task of its own and goes on.
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            await self._write(batch)
        self._active -= 1  # no await since the loop's last look: nothing slipped in between

    async def _write(self, batch: list[tuple[ItemT, asyncio.Future[ResultT]]]) -> None:
        try:
            results = await self.write([item for item, _ in batch])
        except Exception as error:
            if len(batch) > 1 and not is_outage(error):
                logger.warning(
                    "a batch of %d failed (%s); writing each alone",
                    len(batch),
                    type(error).__name__,
                )
                for one in batch:
                    await self._write([one])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def aclose(self) -> None:
        """Wait for the writes in flight (at shutdown, so no accepted request is dropped)."""
        while self._tasks:
            await asyncio.gather(*self._tasks)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
