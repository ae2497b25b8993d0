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

from bot.updates import (
    MAX_DEPTH,
    NotAnUpdateError,
    OnDropped,
    UnreadableUpdateError,
    dropped,
    handle_update,
    ignore_drop,
    read_update,
)

__all__ = ["MAX_DEPTH", "SECRET_HEADER", "parse_update", "telegram_webhook_router"]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  (a header name)
DEFAULT_PATH = "/telegram/webhook"


def read_update_body(body: bytes) -> Any:
    """The JSON of a request body; ``NotAnUpdateError`` if it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise NotAnUpdateError("it is not JSON") from error


def derive_webhook_secret(token: str) -> str:
    """A secret every instance derives alike from the bot token (Telegram allows A-Za-z0-9_-)."""
    return hmac.new(token.encode(), b"npsbot telegram webhook", hashlib.sha256).hexdigest()


def webhook_path(url: str) -> str:
    """The local route for the public webhook URL: its path (a proxy forwards it unchanged)."""
    return urlsplit(url).path or DEFAULT_PATH


def parse_update(body: bytes, bot: Any) -> Update:
    """The update in a request body.

    Raises ``NotAnUpdateError`` for a body Telegram could not have sent (answer 400), and
    ``UnreadableUpdateError`` for one PTB cannot read (answer 200 and drop it).
    """
    return read_update(read_update_body(body), bot)


def telegram_webhook_router(
    application: Application,  # type: ignore[type-arg]
    *,
    secret: str,
    path: str,
    on_dropped: OnDropped = ignore_drop,
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
            # Told to the sender, and counted and logged as polling does with such an update.
            dropped(on_dropped, None, "malformed", str(error))
            return JSONResponse(
                {"detail": f"the body is not a Telegram update: {error}"}, status_code=400
            )
        except UnreadableUpdateError as error:
            # Not a 4xx: Telegram would send this update again, and fail again, for ever.
            dropped(on_dropped, error.update_id, "unreadable", error.kind)
            return Response(status_code=200)
        if not await handle_update(application, update):
            # The database is out: Telegram delivers the update again later.
            return JSONResponse(
                {"detail": "temporarily unavailable"},
                status_code=503,
                headers={"Retry-After": "30"},
            )
        return Response(status_code=200)

    return router
