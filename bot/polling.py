"""Polling that confirms an update to Telegram only once it has been handled.

Telegram forgets updates below the ``offset`` of the next ``getUpdates``. PTB's Updater asks for
the next batch as soon as it has queued the last one, before any handler ran: ``kill -9`` in
between loses a client's tap or comment. Here the offset sent is a low watermark: the lowest
update still in hand (taken, its handler not finished), or one past the newest update when none
is; an update counts as handled only once its handler returned, i.e. its transaction committed.
After a crash every unfinished update comes again; the handlers are compare-and-set on the
database, so a repeat changes nothing.

The poller is pipelined: it asks for more while updates are in hand, so a press that arrives
while others are being handled is taken at once instead of after the whole batch before it (a
toast waited for the slowest answer of the batch before it, 0.8-1.1 s at 100 presses/s). As
long as the watermark sits below updates already taken, Telegram sends them again with each
answer: an update id already in hand, or handled but not yet passed by the offset sent, is
dropped before it is read, so none is handled twice. With updates in hand, an answer comes at
once (the unconfirmed ones are still Telegram's), so the next ``getUpdates`` waits until the
watermark moves or ``busy_poll_seconds`` pass, twice as long after each answer that brought
nothing new, up to ``MAX_BUSY_POLL_SECONDS`` (a handler stuck for minutes in a database outage
would otherwise have the bot ask 50 times a second); with none in hand it is a long poll.

An update PTB cannot read is dropped (``bot.updates``, as in webhook mode) and the rest of its
batch handled; any error of a ``getUpdates`` is retried with backoff, so the loop ends only at
``stop()`` or when Telegram refuses the token, and ``running`` (which ``/readyz`` reports) says
so.

Updates are handled person by person: people in parallel (so one slow chat does not hold up
the rest and a burst of presses is answered at the rate the database allows), each person's
updates in the order they were sent, across batches too: a score before the comment that follows
it, and a manager's press under an alert in the group before the reply they then type in the
bot's private chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.logs import without_message
from bot.updates import (
    OnDropped,
    confirmable_id,
    handle_update,
    ignore_drop,
    last_update_id,
    read_batch,
)

logger = logging.getLogger(__name__)

LONG_POLL_SECONDS = 10
BATCH_LIMIT = 100  # Telegram's maximum per getUpdates
# How much longer than the long poll an answer may take to arrive (PTB adds the same margin,
# its get_updates request's read timeout, to the long poll).
READ_MARGIN_SECONDS = 10.0
# With updates in hand, how long at most before asking again for the ones that came meanwhile
# (Telegram answers such a getUpdates at once, with the unconfirmed updates again).
BUSY_POLL_SECONDS = 0.02
# The longest wait between those while nothing new comes: what a press made meanwhile may wait.
MAX_BUSY_POLL_SECONDS = 0.5


def order_key(update: Update) -> int:
    """What orders updates: who sent them (or, with no sender, the chat they are in)."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return -update.update_id  # nothing to order it with: on its own


@dataclass(slots=True)
class ReliablePoller:
    """Long-polls ``getUpdates`` and hands each update to ``application.process_update``."""

    application: Application  # type: ignore[type-arg]
    allowed_updates: Sequence[str]
    on_error: Callable[[TelegramError], None]
    on_dropped: OnDropped = ignore_drop
    people_at_once: int = 64
    long_poll_seconds: int = LONG_POLL_SECONDS
    max_backoff: float = 30.0
    busy_poll_seconds: float = BUSY_POLL_SECONDS
    _after_last: int | None = None  # one past the newest update taken: the offset when idle
    _confirmed: int | None = None  # the offset last sent: Telegram has forgotten all below it
    _unfinished: set[int] = field(default_factory=set)  # taken, handler not finished
    _finished: set[int] = field(default_factory=set)  # handled, not yet below _confirmed
    _queues: dict[int, deque[Update]] = field(default_factory=dict)  # by order_key
    _chains: set[asyncio.Task[None]] = field(default_factory=set)  # one per person in hand
    _moved: asyncio.Event = field(default_factory=asyncio.Event)  # the watermark moved
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _task: asyncio.Task[None] | None = None
    _poll: asyncio.Task[Any] | None = None
    _limit: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._limit = asyncio.Semaphore(self.people_at_once)

    @property
    def running(self) -> bool:
        """Whether the polling loop is alive."""
        return self._task is not None and not self._task.done()

    @property
    def offset(self) -> int | None:
        """The low watermark: the lowest update in hand, else one past the newest taken.

        Telegram's offset confirms every update below it, so it may pass only updates whose
        handling finished.
        """
        return min(self._unfinished) if self._unfinished else self._after_last

    async def start(self) -> None:
        """Leave webhook mode if it was on (updates stay queued), then poll in the background."""
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        self._stopping = False
        self._stopped.clear()
        self._task = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self) -> None:
        """Stop asking for updates; let the updates in hand finish, then confirm them.

        Without the last confirmation a clean restart would see them once more.
        """
        self._stopping = True
        self._stopped.set()
        if self._poll is not None:
            self._poll.cancel()  # an unanswered long poll: nothing was handed out
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        offset = self.offset
        if offset is not None and offset != self._confirmed:
            try:  # raw: the update after them is not read, so it cannot fail to parse
                await self._get_updates(offset, long_poll=0, limit=1)
            except Exception as error:  # the next start confirms it instead
                logger.warning("could not confirm the last updates (%s)", type(error).__name__)

    async def _run(self) -> None:
        try:
            await self._poll_until_stopped()
        except asyncio.CancelledError:
            if not self._stopping:  # killed (a crash): what is in hand stays unconfirmed
                for chain in list(self._chains):
                    chain.cancel()
                raise
        # stop(): the updates in hand finish before the last confirmation
        while self._chains:
            await asyncio.gather(*list(self._chains), return_exceptions=True)

    async def _poll_until_stopped(self) -> None:
        backoff, quiet = 1.0, 0
        while not self._stopping:
            try:
                taken = await self._poll_once()
                if taken is not None:
                    backoff = 1.0
                    quiet = min(quiet + 1, 16) if self._unfinished and not taken else 0
                    if self._unfinished:  # the next answer would come at once: let them work
                        await self._wait(self._moved, self._busy_wait(quiet))
                    if self._moved.is_set():
                        quiet = 0
                    continue
                # Updates, but none with an id to confirm: asked for again at once, they would
                # spin the loop. Telegram never sends such a batch; whatever did is waited out.
                logger.error("getUpdates answered updates without an update_id to confirm")
            except asyncio.CancelledError:
                if self._stopping:
                    return
                raise
            except InvalidToken:  # revoked while running: no retry can help
                logger.critical("Telegram rejected the bot token: polling stopped")
                return
            except TelegramError as error:  # 409 Conflict, network errors, time-outs, 5xx
                self.on_error(error)
            except Exception as error:  # a fault of ours or PTB's: never end the loop on it
                # Without its message, which may quote the update (``without_message``).
                logger.error("getUpdates failed; retrying: %s", without_message(error))  # noqa: TRY400
            await self._wait(self._stopped, backoff)
            backoff = min(backoff * 2, self.max_backoff)

    def _busy_wait(self, quiet: int) -> float:
        """How long to let the updates in hand work after ``quiet`` answers with nothing new."""
        return min(self.busy_poll_seconds * float(2**quiet), MAX_BUSY_POLL_SECONDS)

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        """Until ``event`` is set or ``seconds`` have passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    async def _poll_once(self) -> int | None:
        """One ``getUpdates`` at the watermark; the new updates in it set going.

        How many were new, or None for a batch of updates of which none could be confirmed.
        """
        raw = await self._next_batch()
        last = last_update_id(raw)
        fresh = [data for data in raw if self._is_new(data)] if isinstance(raw, list) else raw
        updates = read_batch(fresh, self.application.bot, self.on_dropped)
        read = {update.update_id for update in updates}
        taken = 0
        for data in fresh if isinstance(fresh, list) else ():
            update_id = confirmable_id(data)
            if update_id is not None:
                taken += 1
                if update_id not in read:  # dropped: done with as it is
                    self._finished.add(update_id)
        for update in updates:
            self._unfinished.add(update.update_id)
            self._hand_over(update)
        if last is not None:
            self._after_last = max(last + 1, self._after_last or 0)
        return taken if last is not None or not raw else None

    def _is_new(self, data: object) -> bool:
        """Not an update already in hand or handled (Telegram repeats those until confirmed)."""
        update_id = confirmable_id(data)
        return update_id is None or (
            update_id not in self._unfinished and update_id not in self._finished
        )

    async def _next_batch(self) -> Any:
        """One long poll, answered as Telegram's raw JSON; its ``offset`` confirms what is handled.

        PTB's ``get_updates`` would parse the batch as one: one update it cannot read raises for
        all, and PTB logs the whole batch (names, texts) at CRITICAL first. ``Bot._post`` is the
        call under it (``do_api_request`` warns for a method the Bot class has, and calls a
        rejected token a missing endpoint); a PTB upgrade that changes it fails tests/test_polling.
        """
        offset = self.offset
        self._moved.clear()
        self._poll = asyncio.create_task(
            self._get_updates(offset, long_poll=self.long_poll_seconds, limit=BATCH_LIMIT)
        )
        try:
            raw = await self._poll
        finally:
            self._poll = None
        self._confirmed = offset
        if offset is not None:  # Telegram will not send these again
            self._finished = {update_id for update_id in self._finished if update_id >= offset}
        return raw

    async def _get_updates(self, offset: int | None, *, long_poll: int, limit: int) -> Any:
        """``getUpdates``, answered as Telegram's raw JSON (see ``_next_batch``)."""
        return await self.application.bot._post(  # private: see _next_batch
            "getUpdates",
            {
                "offset": offset,
                "timeout": long_poll,
                "limit": limit,
                "allowed_updates": list(self.allowed_updates),
            },
            read_timeout=long_poll + READ_MARGIN_SECONDS,
        )

    def _hand_over(self, update: Update) -> None:
        """Queue ``update`` behind its sender's updates in hand, or start them a chain."""
        key = order_key(update)
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(update)
            return
        self._queues[key] = deque([update])
        chain = asyncio.create_task(self._in_order(key), name=f"update-{update.update_id}")
        self._chains.add(chain)
        chain.add_done_callback(self._chains.discard)

    async def _in_order(self, key: int) -> None:
        """Handle one person's updates in hand in order, ``people_at_once`` people at once."""
        queue = self._queues[key]
        try:
            while queue:
                update = queue[0]
                async with self._limit:
                    # Handler errors go to the application's error handler; nothing raises here.
                    await handle_update(self.application, update)
                queue.popleft()
                self._finish(update.update_id)
        finally:
            del self._queues[key]

    def _finish(self, update_id: int) -> None:
        lowest = self.offset
        self._unfinished.discard(update_id)
        self._finished.add(update_id)
        if update_id == lowest:
            self._moved.set()
