"""What the outbox stores for each Bot API method it makes: one ``TypedDict`` per method.

The texts modules build these, ``storage.outbox`` keeps them as JSON, and ``BotSender`` reads
them back by method. The keys are the Bot API's own parameter names, so a stored row reads like
the call it will become; rows written by earlier versions have the same keys, which is why a
type may gain an optional key but never rename or drop one (the rows are not migrated).
"""

from __future__ import annotations

import base64
from typing import Any, NotRequired, TypedDict

# A keyboard (inline, reply, or its removal) as PTB's ``to_dict()`` gives it and Telegram takes
# it: PTB's own JSON shape, passed through as it is (see ``bot.delivery.telegram``).
Markup = dict[str, Any]


class EditMessageText(TypedDict):
    """``editMessageText``: a message's whole new text, and its inline keyboard if it keeps one."""

    text: str
    parse_mode: NotRequired[str]
    reply_markup: NotRequired[Markup]


class SendMessage(EditMessageText):
    """``sendMessage``: the same as an edit, and it may answer an earlier message."""

    reply_to_message_id: NotRequired[int]  # sent as reply_parameters, the question kept or not


class SendVoice(TypedDict):
    """``sendVoice``: a recording Telegram already holds, sent on by its file id."""

    voice: str
    caption: NotRequired[str]
    parse_mode: NotRequired[str]


class StoredFile(TypedDict):
    """A file kept in the row itself, base64, so a restart can still send it."""

    filename: str
    base64: str


class SendPhoto(TypedDict):
    """``sendPhoto``: the digest's chart."""

    photo: StoredFile
    caption: NotRequired[str]
    parse_mode: NotRequired[str]


class SendDocument(TypedDict):
    """``sendDocument``: the digest's and ``/export``'s CSV or XLSX."""

    document: StoredFile
    caption: NotRequired[str]
    parse_mode: NotRequired[str]


Payload = SendMessage | EditMessageText | SendVoice | SendPhoto | SendDocument


def stored_file(data: bytes, filename: str) -> StoredFile:
    """``data`` as the outbox keeps a file."""
    return {"filename": filename, "base64": base64.b64encode(data).decode("ascii")}


def file_bytes(stored: StoredFile) -> bytes:
    """The file's content, back from the row."""
    return base64.b64decode(stored["base64"])


def photo_payload(data: bytes, filename: str, *, caption: str) -> SendPhoto:
    """A ``sendPhoto`` of ``data`` under ``caption``."""
    return {"photo": stored_file(data, filename), "caption": caption}


def document_payload(data: bytes, filename: str, *, caption: str) -> SendDocument:
    """A ``sendDocument`` of ``data`` under ``caption``."""
    return {"document": stored_file(data, filename), "caption": caption}
