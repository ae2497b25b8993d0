"""Telegram's webhook: updates POSTed by Telegram, checked, and handled before the answer.

Handling the update before answering 200 means an update is acknowledged only once it is stored:
if the process dies mid-way, Telegram sends it again. The secret token is compared in constant
time; a request without it is refused and handled not at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from telegram import Update
from telegram.ext import Application

from bot.resilience import UpdateOutcome, current_outcome

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  (a header name)
DEFAULT_PATH = "/telegram/webhook"


def derive_webhook_secret(token: str) -> str:
    """A secret every instance derives alike from the bot token (Telegram allows A-Za-z0-9_-)."""
    return hmac.new(token.encode(), b"npsbot telegram webhook", hashlib.sha256).hexdigest()


def webhook_path(url: str) -> str:
    """The local route for the public webhook URL: its path (a proxy forwards it unchanged)."""
    return urlsplit(url).path or DEFAULT_PATH


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
            data = json.loads(await request.body())
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return JSONResponse({"detail": "the body is not a Telegram update"}, status_code=400)
        if update is None:
            return JSONResponse({"detail": "the body is not a Telegram update"}, status_code=400)
        outcome = UpdateOutcome()
        token = current_outcome.set(outcome)
        try:
            await application.process_update(update)
        finally:
            current_outcome.reset(token)
        if outcome.gave_up:  # the database is out: Telegram delivers the update again later
            return JSONResponse(
                {"detail": "temporarily unavailable"},
                status_code=503,
                headers={"Retry-After": "30"},
            )
        return Response(status_code=200)

    return router
