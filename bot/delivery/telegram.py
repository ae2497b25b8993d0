"""The one seam between the outbox and the Bot API: a stored call becomes a PTB method call."""

from __future__ import annotations

from typing import Any, Protocol, cast

from telegram import Bot, InputFile, LinkPreviewOptions, Message, ReplyParameters

from bot.delivery.payloads import (
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    SendVoice,
    StoredFile,
    file_bytes,
)
from storage.outbox import ClaimedCall


class Sender(Protocol):
    """Makes one stored call; returns the message id Telegram gave it, if any."""

    async def __call__(self, call: ClaimedCall) -> int | None: ...


MARKUP_KINDS = ("inline_keyboard", "keyboard", "remove_keyboard")


def _markup(payload: EditMessageText) -> Any:
    """The stored keyboard, as the JSON object Telegram takes (inline, reply, or its removal).

    PTB serialises a plain dict parameter as it is. Rebuilding ``InlineKeyboardMarkup`` objects
    only for PTB to turn them back into the same dict cost a fifth of the dispatcher's CPU per
    message (docs/benchmarks.md); the payload was built from PTB objects in the first place.
    ``Any`` because PTB's signatures name only its markup classes, though it takes the dict.
    """
    raw = payload.get("reply_markup")
    if not raw:
        return None
    # The row is JSON read back: checked, not trusted, before Telegram gets it.
    if not isinstance(raw, dict) or not any(kind in raw for kind in MARKUP_KINDS):
        raise ValueError("reply_markup must be a keyboard or its removal")
    return raw


def _inline(payload: EditMessageText) -> Any:
    markup = _markup(payload)
    if markup is not None and "inline_keyboard" not in markup:
        raise ValueError("edited messages can only carry inline keyboards")
    return markup


def _reply_to(payload: SendMessage) -> ReplyParameters | None:
    message_id = payload.get("reply_to_message_id")
    if message_id is None:
        return None
    # The reminder still makes sense if the client deleted the question.
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def _file(stored: StoredFile) -> InputFile:
    """A file stored in the row itself, so a restart can still send it."""
    return InputFile(file_bytes(stored), filename=stored["filename"])


class BotSender:
    """Turns outbox rows into calls of PTB's typed methods (never raw endpoint names)."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def __call__(self, call: ClaimedCall) -> int | None:
        """Make the call; exceptions are PTB's and are judged by the delivery policy."""
        # JSON comes back untyped: each row was written as its method's payload type (rows of
        # earlier versions have the same keys), so it is read back as that type.
        raw = call.payload
        no_preview = LinkPreviewOptions(is_disabled=True)
        if call.method == "sendMessage":
            payload = cast(SendMessage, raw)
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
            edit = cast(EditMessageText, raw)
            result = await self._bot.edit_message_text(
                chat_id=call.chat_id,
                message_id=call.message_id,
                text=edit["text"],
                parse_mode=edit.get("parse_mode"),
                reply_markup=_inline(edit),
                link_preview_options=no_preview,
            )
            return result.message_id if isinstance(result, Message) else call.message_id
        if call.method == "sendVoice":
            voice = cast(SendVoice, raw)
            message = await self._bot.send_voice(
                chat_id=call.chat_id,
                voice=voice["voice"],
                caption=voice.get("caption"),
                parse_mode=voice.get("parse_mode"),
            )
            return message.message_id
        if call.method == "sendPhoto":
            photo = cast(SendPhoto, raw)
            message = await self._bot.send_photo(
                chat_id=call.chat_id,
                photo=_file(photo["photo"]),
                caption=photo.get("caption"),
                parse_mode=photo.get("parse_mode"),
            )
            return message.message_id
        if call.method == "sendDocument":
            document = cast(SendDocument, raw)
            message = await self._bot.send_document(
                chat_id=call.chat_id,
                document=_file(document["document"]),
                caption=document.get("caption"),
                parse_mode=document.get("parse_mode"),
            )
            return message.message_id
        raise ValueError(f"the outbox does not know the method {call.method!r}")
