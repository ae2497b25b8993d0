"""Telegram's updates as they arrive, read one by one into PTB's ``Update``, or set aside.

Both ways updates arrive, the webhook's POSTs (``bot.webhook``) and the poller's ``getUpdates``
(``bot.polling``), read and handle them here, so an update is treated alike whichever way it
came. PTB parses a ``getUpdates`` answer as one batch: a single update it cannot build (a field
an older or newer Bot API sends differently, such as a poll option without ``persistent_id``)
raises for the whole batch, and PTB then logs the whole batch, names and texts included. Read one
by one, that update is dropped, counted, and logged by its ``update_id`` and error type only,
while the rest of the batch is handled. The same update would fail the same way every time, so
asking for it again would only stop every update after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from telegram import Update
from telegram.ext import Application

from bot.resilience import UpdateOutcome, current_outcome

logger = logging.getLogger(__name__)

# Telegram's updates nest ten levels or so (update, message, the message it replies to, its
# keyboard, a row, a button, the button's login URL); anything much deeper is not from
# Telegram, and could exhaust the recursion of PTB's parser.
MAX_DEPTH = 32
# update_id is a positive integer, and fits a signed 64-bit column.
MAX_UPDATE_ID = 2**63 - 1

# Why an update was set aside: not of Telegram's shape, or of its shape but unreadable to PTB.
DropReason = Literal["malformed", "unreadable"]
DROP_REASONS: tuple[DropReason, ...] = ("malformed", "unreadable")
OnDropped = Callable[[DropReason], None]


class NotAnUpdateError(ValueError):
    """A body Telegram could not have sent; the message says why (no part of the body)."""


class UnreadableUpdateError(Exception):
    """An update of Telegram's shape that PTB cannot turn into an ``Update``."""

    def __init__(self, update_id: int, cause: BaseException) -> None:
        super().__init__(f"update {update_id}: {type(cause).__name__}")
        self.update_id = update_id
        self.kind = type(cause).__name__


def _depth(value: object) -> int:
    """How deeply ``value`` nests objects and arrays (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[Any] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_UPDATE_ID


def confirmable_id(data: object) -> int | None:
    """A raw update's ``update_id`` if it is a non-negative integer, however large."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if isinstance(update_id, int) and not isinstance(update_id, bool) and update_id >= 0:
        return update_id
    return None


def update_id_of(data: object) -> int | None:
    """The ``update_id`` of a raw update, if it has a valid one."""
    update_id = confirmable_id(data)
    return update_id if update_id is not None and update_id <= MAX_UPDATE_ID else None


def check_shape(data: object) -> dict[str, Any]:
    """The raw update, checked for the shape every Telegram update has.

    Raises ``NotAnUpdateError`` for anything else. PTB's ``Update.de_json`` assumes this shape
    and fails with ``AttributeError`` or ``RecursionError`` without it.
    """
    if not isinstance(data, dict):
        raise NotAnUpdateError("it is not a JSON object")
    if update_id_of(data) is None:
        raise NotAnUpdateError("update_id is missing or not a non-negative integer")
    if not all(isinstance(value, dict) for key, value in data.items() if key != "update_id"):
        raise NotAnUpdateError("every field but update_id must be an object")
    if _depth(data) > MAX_DEPTH:
        raise NotAnUpdateError(f"it nests deeper than {MAX_DEPTH} levels")
    return data


def check_ids(update: Update) -> None:
    """Raise ``NotAnUpdateError`` unless the ids handlers rely on are 64-bit integers.

    PTB does not check the types it reads, and hashes the chat and user ids outside the
    handlers' error handling: a list there would escape ``process_update``.
    """
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    ids = [
        ("the user id", user and user.id),
        ("the chat id", chat and chat.id),
        ("the message id", message and message.message_id),
    ]
    for name, value in ids:
        if value is not None and not _is_id(value):
            raise NotAnUpdateError(f"{name} is not an integer")


def read_update(data: object, bot: Any) -> Update:
    """The ``Update`` of one raw update.

    Raises ``NotAnUpdateError`` for data Telegram could not have sent, and
    ``UnreadableUpdateError`` for an update of Telegram's shape that PTB cannot read.
    """
    checked = check_shape(data)
    try:
        update = Update.de_json(checked, bot)
        check_ids(update)
    except NotAnUpdateError:
        raise
    except Exception as error:  # whatever PTB raises, the same update fails again
        # Out-of-range dates raise OSError here, which the outage handler would take for a
        # lost database, and the update would then be asked for again for ever.
        raise UnreadableUpdateError(checked["update_id"], error) from error
    return update


def ignore_drop(_reason: DropReason) -> None:
    """For a reader without metrics to count a dropped update in."""


def dropped(on_dropped: OnDropped, update_id: int | None, reason: DropReason, kind: str) -> None:
    """Count a dropped update, and log one line that lets an operator find it, with nothing of
    what it holds."""
    logger.warning(
        "dropped update %s: %s (%s)",
        "without an id" if update_id is None else update_id,
        "not of Telegram's shape" if reason == "malformed" else "PTB cannot read it",
        kind,
    )
    on_dropped(reason)


def read_batch(raw: object, bot: Any, on_dropped: OnDropped) -> list[Update]:
    """The readable updates of a ``getUpdates`` answer; the others dropped, counted, logged."""
    if not isinstance(raw, list):
        dropped(on_dropped, None, "malformed", "the answer is not a list")
        return []
    updates: list[Update] = []
    for data in raw:
        try:
            updates.append(read_update(data, bot))
        except NotAnUpdateError as error:
            dropped(on_dropped, update_id_of(data), "malformed", str(error))
        except UnreadableUpdateError as error:
            dropped(on_dropped, error.update_id, "unreadable", error.kind)
    return updates


def last_update_id(raw: object) -> int | None:
    """The highest ``update_id`` in a ``getUpdates`` answer: the next offset less one.

    Any non-negative integer counts here, even one too large to be valid: the offset past it
    is what confirms it, and a batch that cannot be confirmed comes back at once, for ever.
    """
    if not isinstance(raw, list):
        return None
    return max((i for i in map(confirmable_id, raw) if i is not None), default=None)


async def handle_update(application: Application, update: Update) -> bool:  # type: ignore[type-arg]
    """Handle the update; False if the database was out and it should be handled again later.

    PTB hands handler errors to its error handlers; whatever else escapes ``process_update``
    is logged here by type, so neither the webhook's request nor the poller's loop ends on it.
    """
    outcome = UpdateOutcome()
    token = current_outcome.set(outcome)
    try:
        await application.process_update(update)
    except Exception as error:
        logger.warning(  # no traceback: it may quote the update
            "PTB failed on update %d (%s); acknowledged", update.update_id, type(error).__name__
        )
    finally:
        current_outcome.reset(token)
    return not outcome.gave_up
