"""Telegram's webhook: updates POSTed by Telegram, checked, and handled before the answer.

Handling the update before answering 200 means an update is acknowledged only once it is stored:
if the process dies mid-way, Telegram sends it again. The secret token is compared in constant
time; a request without it is refused and handled not at all.

What a request with the right secret gets back, chosen for Telegram's retries (Telegram sends
an update again after any answer other than 2xx, for as long as it keeps failing):

- **400** for a body Telegram could not have sent: not JSON, not an object, no integer
  ``update_id``, a field that is not an object, nesting deeper than ``MAX_DEPTH``, or a user,
  chat or message id that is not a 64-bit integer. Telegram never sends such a body, so the
  400 goes to whoever did, and says why.
- **200, dropped** for an update of Telegram's shape that PTB cannot read (a ``date`` out of
  range, a missing required field). The same update would fail the same way every time, so
  asking Telegram for it again would block the webhook with retries forever. It is logged by
  ``update_id`` and error type only: its content may be personal.
- **503** only when the database is out (``bot.resilience``): that update can succeed later.
- **200** once the update has been handled.

Nothing is handled for a 400 or a dropped update.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from telegram import Update
from telegram.ext import Application

from bot.resilience import UpdateOutcome, current_outcome

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  (a header name)
DEFAULT_PATH = "/telegram/webhook"
# Telegram's updates nest ten levels or so (update, message, the message it replies to, its
# keyboard, a row, a button, the button's login URL); anything much deeper is not from
# Telegram, and could exhaust the recursion of PTB's parser.
MAX_DEPTH = 32
# update_id is a positive integer, and fits a signed 64-bit column.
MAX_UPDATE_ID = 2**63 - 1


class NotAnUpdateError(ValueError):
    """A body Telegram could not have sent; the message says why (no part of the body)."""


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


def read_update_body(body: bytes) -> dict[str, Any]:
    """The JSON object of an update, checked for the shape every Telegram update has.

    Raises ``NotAnUpdateError`` for anything else. PTB's ``Update.de_json`` assumes this shape
    and fails with ``AttributeError`` or ``RecursionError`` without it.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise NotAnUpdateError("it is not JSON") from error
    if not isinstance(data, dict):
        raise NotAnUpdateError("it is not a JSON object")
    update_id = data.get("update_id")
    if (
        not isinstance(update_id, int)
        or isinstance(update_id, bool)
        or not 0 <= update_id <= MAX_UPDATE_ID
    ):
        raise NotAnUpdateError("update_id is missing or not a non-negative integer")
    if not all(isinstance(value, dict) for key, value in data.items() if key != "update_id"):
        raise NotAnUpdateError("every field but update_id must be an object")
    if _depth(data) > MAX_DEPTH:
        raise NotAnUpdateError(f"it nests deeper than {MAX_DEPTH} levels")
    return data


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_UPDATE_ID


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


def derive_webhook_secret(token: str) -> str:
    """A secret every instance derives alike from the bot token (Telegram allows A-Za-z0-9_-)."""
    return hmac.new(token.encode(), b"npsbot telegram webhook", hashlib.sha256).hexdigest()


def webhook_path(url: str) -> str:
    """The local route for the public webhook URL: its path (a proxy forwards it unchanged)."""
    return urlsplit(url).path or DEFAULT_PATH


class UnreadableUpdateError(Exception):
    """An update of Telegram's shape that PTB cannot turn into an ``Update``."""

    def __init__(self, update_id: int, cause: BaseException) -> None:
        super().__init__(f"update {update_id}: {type(cause).__name__}")
        self.update_id = update_id
        self.kind = type(cause).__name__


def parse_update(body: bytes, bot: Any) -> Update:
    """The update in a request body.

    Raises ``NotAnUpdateError`` for a body Telegram could not have sent (answer 400), and
    ``UnreadableUpdateError`` for one PTB cannot read (answer 200 and drop it).
    """
    data = read_update_body(body)
    try:
        update = Update.de_json(data, bot)
        check_ids(update)
    except NotAnUpdateError:
        raise
    except Exception as error:  # whatever PTB raises, the same update fails again
        # Out-of-range dates raise OSError here, which the outage handler would take for a
        # lost database, and Telegram would then retry the update for ever.
        raise UnreadableUpdateError(data["update_id"], error) from error
    return update


async def _handle(application: Application, update: Update) -> bool:  # type: ignore[type-arg]
    """Handle the update; False if the database was out and Telegram should send it again."""
    outcome = UpdateOutcome()
    token = current_outcome.set(outcome)
    try:
        await application.process_update(update)
    except Exception as error:  # PTB hands handler errors to its error handlers, but not these
        logger.warning(  # no traceback: it may quote the update
            "PTB failed on update %d (%s); acknowledged", update.update_id, type(error).__name__
        )
    finally:
        current_outcome.reset(token)
    return not outcome.gave_up


def telegram_webhook_router(
    application: Application,  # type: ignore[type-arg]
    *,
    secret: str,
    path: str,
) -> APIRouter:
    """The route Telegram POSTs updates to."""
    router = APIRouter(tags=["telegram"])
    expected = secret.encode()

    @router.post(path, summary="Telegram updates (webhook mode)", include_in_schema=False)
    async def telegram_update(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"detail": "wrong or missing secret token"}, status_code=401)
        try:
            update = parse_update(await request.body(), application.bot)
        except NotAnUpdateError as error:
            return JSONResponse(
                {"detail": f"the body is not a Telegram update: {error}"}, status_code=400
            )
        except UnreadableUpdateError as error:
            # Not a 4xx: Telegram would send this update again, and fail again, for ever.
            logger.warning(
                "dropped update %d: PTB cannot read it (%s)", error.update_id, error.kind
            )
            return Response(status_code=200)
        if not await _handle(application, update):
            # The database is out: Telegram delivers the update again later.
            return JSONResponse(
                {"detail": "temporarily unavailable"},
                status_code=503,
                headers={"Retry-After": "30"},
            )
        return Response(status_code=200)

    return router
