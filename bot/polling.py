"""Polling that confirms an update to Telegram only once it has been handled.

Telegram forgets updates below the ``offset`` of the next ``getUpdates``. PTB's Updater asks for
the next batch as soon as it has queued the last one, before any handler ran: ``kill -9`` in
between loses a client's tap or comment. Here a batch is handled first, and only then does the
next ``getUpdates`` confirm it. After a crash the unconfirmed batch comes again; the handlers are
compare-and-set on the database, so a repeat changes nothing.

An update PTB cannot read is dropped (``bot.updates``, as in webhook mode) and the rest of its
batch handled; any error of a ``getUpdates`` is retried with backoff, so the loop ends only at
``stop()`` or when Telegram refuses the token, and ``running`` (which ``/readyz`` reports) says
so.

A batch is handled person by person: people in parallel (so one slow chat does not hold up the
rest and a burst of presses is answered at the rate the database allows), each person's updates
in the order they were sent: a score before the comment that follows it, and a manager's press
under an alert in the group before the reply they then type in the bot's private chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.logs import without_message
from bot.updates import OnDropped, handle_update, ignore_drop, last_update_id, read_batch

logger = logging.getLogger(__name__)

LONG_POLL_SECONDS = 10
BATCH_LIMIT = 100  # Telegram's maximum per getUpdates
# How much longer than the long poll an answer may take to arrive (PTB adds the same margin,
# its get_updates request's read timeout, to the long poll).
READ_MARGIN_SECONDS = 10.0


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
    _offset: int | None = None
    _confirmed: int | None = None
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

    async def start(self) -> None:
        """Leave webhook mode if it was on (updates stay queued), then poll in the background."""
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self) -> None:
        """Stop asking for updates; let the batch in hand finish, then confirm it to Telegram.

        Without the last confirmation a clean restart would see that batch once more.
        """
        self._stopping = True
        if self._poll is not None:
            self._poll.cancel()  # an unanswered long poll: nothing was handed out
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._offset is not None and self._offset != self._confirmed:
            try:  # raw: the update after them is not read, so it cannot fail to parse
                await self._get_updates(self._offset, long_poll=0, limit=1)
            except Exception as error:  # the next start confirms it instead
                logger.warning("could not confirm the last updates (%s)", type(error).__name__)

    async def _run(self) -> None:
        backoff = 1.0
        while not self._stopping:
            try:
                raw = await self._next_batch()
                if await self._handle_batch(raw):
                    backoff = 1.0
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
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _handle_batch(self, raw: object) -> bool:
        """Handle what can be read of a batch, then move the offset past all of it.

        False for a batch of updates of which none could be confirmed.
        """
        last = last_update_id(raw)
        updates = read_batch(raw, self.application.bot, self.on_dropped)
        if updates:
            await self.handle(updates)
        if last is not None:
            self._offset = last + 1
        return last is not None or not raw

    async def _next_batch(self) -> Any:
        """One long poll, answered as Telegram's raw JSON; its ``offset`` confirms what is handled.

        PTB's ``get_updates`` would parse the batch as one: one update it cannot read raises for
        all, and PTB logs the whole batch (names, texts) at CRITICAL first. ``Bot._post`` is the
        call under it (``do_api_request`` warns for a method the Bot class has, and calls a
        rejected token a missing endpoint); a PTB upgrade that changes it fails tests/test_polling.
        """
        self._poll = asyncio.create_task(
            self._get_updates(self._offset, long_poll=self.long_poll_seconds, limit=BATCH_LIMIT)
        )
        try:
            raw = await self._poll
        finally:
            self._poll = None
        self._confirmed = self._offset
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

    async def handle(self, updates: Sequence[Update]) -> None:
        """Handle a batch: each person's updates in order, ``people_at_once`` people at once."""
        by_sender: dict[int, list[Update]] = {}
        for update in updates:
            by_sender.setdefault(order_key(update), []).append(update)
        await asyncio.gather(*(self._in_order(queue) for queue in by_sender.values()))

    async def _in_order(self, updates: list[Update]) -> None:
        async with self._limit:
            for update in updates:
                # Handler errors go to the application's error handler; nothing raises here.
                await handle_update(self.application, update)
