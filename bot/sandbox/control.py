"""A small HTTP control API under ``/sandbox/`` for driving a standalone fake.

When the fake runs as its own process (``python -m bot.sandbox``) there is no Python
object to call; these routes let a person or script play the user with ``curl``: write
messages, press buttons and read what the bot sent.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.sandbox.models import SentMessage, UploadedFile

if TYPE_CHECKING:
    from bot.sandbox.server import FakeBotApi


def message_view(message: SentMessage) -> dict[str, Any]:
    """A JSON-friendly view of a message (file contents left out)."""
    return {
        "chat_id": message.chat_id,
        "message_id": message.message_id,
        "from_bot": message.from_bot,
        "from_user_id": message.from_user_id,
        "text": message.text,
        "caption": message.caption,
        "parse_mode": message.parse_mode,
        "reply_markup": message.reply_markup,
        "reply_keyboard": message.reply_keyboard,
        "document_name": message.document_name,
        "has_photo": message.has_photo,
        "edits": message.edits,
        "date": message.date,
    }


def _error(status: int, description: str) -> Response:
    return JSONResponse({"ok": False, "error": description}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _chat_id(request: Request) -> int | None:
    try:
        return int(request.path_params["chat_id"])
    except ValueError:
        return None


def control_routes(fake: FakeBotApi) -> list[BaseRoute]:
    """Routes bound to one fake."""

    async def list_messages(request: Request) -> Response:
        chat_id = _chat_id(request)
        if chat_id is None:
            return _error(400, "chat id must be an integer")
        return JSONResponse([message_view(m) for m in fake.messages(chat_id)])

    async def post_message(request: Request) -> Response:
        """Body ``{"text": ..., "user_id": optional, "first_name": optional}``."""
        chat_id = _chat_id(request)
        body = await _json_body(request)
        text = body.get("text")
        if chat_id is None or not isinstance(text, str) or not text:
            return _error(400, 'expected an integer chat id and {"text": "..."}')
        user_id = int(body.get("user_id") or chat_id)
        if user_id <= 0:
            return _error(400, "user_id is required when writing into a group")
        client = fake.client(user_id, str(body.get("first_name") or "Client"))
        try:
            message = await client.send_text(text, chat_id=chat_id)
        except LookupError as error:
            return _error(404, str(error))
        return JSONResponse(message_view(message))

    async def press(request: Request) -> Response:
        """Body ``{"data": ...}`` or ``{"button": "label"}``, plus optional ``user_id``."""
        chat_id = _chat_id(request)
        body = await _json_body(request)
        if chat_id is None:
            return _error(400, "chat id must be an integer")
        message_id = int(request.path_params["message_id"])
        message = next((m for m in fake.messages(chat_id) if m.message_id == message_id), None)
        if message is None:
            return _error(404, f"no message {message_id} in chat {chat_id}")
        client = fake.client(int(body.get("user_id") or chat_id))
        try:
            if isinstance(body.get("button"), str):
                query_id = await client.press_button(message, body["button"])
            elif isinstance(body.get("data"), str):
                query_id = await client.press(message, body["data"])
            else:
                return _error(400, 'expected {"data": ...} or {"button": ...}')
        except LookupError as error:
            return _error(404, str(error))
        return JSONResponse({"callback_query_id": query_id})

    async def list_calls(request: Request) -> Response:
        def plain(value: object) -> object:
            if isinstance(value, UploadedFile):
                return {"filename": value.filename, "size": len(value.data)}
            return value

        return JSONResponse(
            [
                {
                    "method": call.method,
                    "status": call.status,
                    "timestamp": call.timestamp,
                    "description": call.description,
                    "params": {key: plain(value) for key, value in call.params.items()},
                }
                for call in fake.calls
            ]
        )

    return [
        Route("/sandbox/chats/{chat_id}/messages", list_messages, methods=["GET"]),
        Route("/sandbox/chats/{chat_id}/messages", post_message, methods=["POST"]),
        Route("/sandbox/chats/{chat_id}/messages/{message_id:int}/press", press, methods=["POST"]),
        Route("/sandbox/calls", list_calls, methods=["GET"]),
    ]
