"""The one seam between the outbox and the Bot API: a stored call becomes a PTB method call."""

from __future__ import annotations

import base64
from typing import Any, Protocol

from telegram import Bot, InputFile, LinkPreviewOptions, Message, ReplyParameters

from storage.outbox import ClaimedCall


class Sender(Protocol):
    """Makes one stored call; returns the message id Telegram gave it, if any."""

    async def __call__(self, call: ClaimedCall) -> int | None: ...


MARKUP_KINDS = ("inline_keyboard", "keyboard", "remove_keyboard")


def _markup(payload: dict[str, Any]) -> Any:
    """The stored keyboard, as the JSON object Telegram takes (inline, reply, or its removal).

    PTB serialises a plain dict parameter as it is. Rebuilding ``InlineKeyboardMarkup`` objects
    only for PTB to turn them back into the same dict cost a fifth of the dispatcher's CPU per
    message (docs/benchmarks.md); the payload was built from PTB objects in the first place.
    """
    raw = payload.get("reply_markup")
    if not raw:
        return None
    if not isinstance(raw, dict) or not any(kind in raw for kind in MARKUP_KINDS):
        raise ValueError("reply_markup must be a keyboard or its removal")
    return raw


def _inline(payload: dict[str, Any]) -> Any:
    markup = _markup(payload)
    if markup is not None and "inline_keyboard" not in markup:
        raise ValueError("edited messages can only carry inline keyboards")
    return markup


def _reply_to(payload: dict[str, Any]) -> ReplyParameters | None:
    message_id = payload.get("reply_to_message_id")
    if message_id is None:
        return None
    # The reminder still makes sense if the client deleted the question.
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def _file(payload: dict[str, Any], key: str) -> InputFile:
    """A file stored in the row itself (base64), so a restart can still send it."""
    stored = payload[key]
    return InputFile(base64.b64decode(stored["base64"]), filename=stored["filename"])


def file_payload(key: str, data: bytes, filename: str, **extra: Any) -> dict[str, Any]:
    """The outbox payload of a ``sendPhoto`` (``key="photo"``) or ``sendDocument`` call."""
    return {key: {"filename": filename, "base64": base64.b64encode(data).decode("ascii")}, **extra}


class BotSender:
    """Turns outbox rows into calls of PTB's typed methods (never raw endpoint names)."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def __call__(self, call: ClaimedCall) -> int | None:
        """Make the call; exceptions are PTB's and are judged by the delivery policy."""
        payload = call.payload
        no_preview = LinkPreviewOptions(is_disabled=True)
        if call.method == "sendMessage":
            message = await self._bot.send_message(
                chat_id=call.chat_id,
                text=payload["text"],
                parse_mode=payload.get("parse_mode"),
                reply_markup=_markup(payload),
                reply_parameters=_reply_to(payload),
                link_preview_options=no_preview,
            )
            return message.message_id
        if call.method == "editMessageText":
            if call.message_id is None:
                raise ValueError("editMessageText needs a message id")
            result = await self._bot.edit_message_text(
                chat_id=call.chat_id,
                message_id=call.message_id,
                text=payload["text"],
                parse_mode=payload.get("parse_mode"),
                reply_markup=_inline(payload),
                link_preview_options=no_preview,
            )
            return result.message_id if isinstance(result, Message) else call.message_id
        if call.method == "sendVoice":
            message = await self._bot.send_voice(
                chat_id=call.chat_id,
                voice=payload["voice"],
                caption=payload.get("caption"),
                parse_mode=payload.get("parse_mode"),
            )
            return message.message_id
        if call.method == "sendPhoto":
            message = await self._bot.send_photo(
                chat_id=call.chat_id,
                photo=_file(payload, "photo"),
                caption=payload.get("caption"),
                parse_mode=payload.get("parse_mode"),
            )
            return message.message_id
        if call.method == "sendDocument":
            message = await self._bot.send_document(
                chat_id=call.chat_id,
                document=_file(payload, "document"),
                caption=payload.get("caption"),
                parse_mode=payload.get("parse_mode"),
            )
            return message.message_id
        raise ValueError(f"the outbox does not know the method {call.method!r}")
