"""Public value objects of the sandbox: what tests look at after the bot has acted.

They are plain dataclasses (not Telegram objects) so that assertions read naturally
(``msg.text``, ``msg.reply_markup``) and stay independent of PTB's own classes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SentMessage:
    """One message in a chat as the latest edit left it.

    ``text``/``caption`` are stored exactly as sent (markup such as ``<b>`` is kept), because
    tests compare against the strings the bot produced. ``reply_markup`` is only the inline
    keyboard (Telegram attaches nothing else to a message); reply keyboards and
    ``ReplyKeyboardRemove``/``ForceReply`` are kept in ``reply_keyboard``.
    Instances handed out by the fake are snapshots: later edits do not change them.
    """

    chat_id: int
    message_id: int
    text: str | None
    caption: str | None
    from_bot: bool
    reply_markup: dict[str, Any] | None
    parse_mode: str | None
    edits: int
    document_name: str | None
    has_photo: bool
    date: int
    from_user_id: int | None = None
    reply_keyboard: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    file_id: str | None = None
    file_bytes: bytes | None = None
    mime_type: str | None = None
    edit_date: int | None = None

    @property
    def content(self) -> str:
        """Text or caption, ``""`` when neither: handy inside ``wait_for`` predicates."""
        return self.text if self.text is not None else (self.caption or "")

    def buttons(self) -> list[dict[str, Any]]:
        """All inline buttons, row by row, as Telegram JSON objects."""
        if not self.reply_markup:
            return []
        rows: list[list[dict[str, Any]]] = self.reply_markup.get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def button_texts(self) -> list[str]:
        """Labels of the inline buttons in reading order."""
        return [str(button.get("text", "")) for button in self.buttons()]

    def callback_data(self, text: str) -> str:
        """``callback_data`` of the button labelled ``text``; ``LookupError`` if there is none."""
        for button in self.buttons():
            if button.get("text") == text and "callback_data" in button:
                return str(button["callback_data"])
        raise LookupError(
            f"no inline button {text!r} with callback_data in message "
            f"{self.message_id} of chat {self.chat_id}; buttons: {self.button_texts()}"
        )

    def describe(self) -> str:
        """One line for failure messages: who sent it, what it says, which buttons it has."""
        who = "bot" if self.from_bot else f"user {self.from_user_id}"
        parts = [f"#{self.message_id} {who}: {self.content!r}"]
        if self.document_name is not None:
            parts.append(f"document={self.document_name!r}")
        if self.has_photo:
            parts.append("photo")
        if self.reply_markup:
            parts.append(f"buttons={self.button_texts()}")
        if self.edits:
            parts.append(f"edits={self.edits}")
        return " ".join(parts)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as the bot uploaded it."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ApiCall:
    """One request the fake received, for assertions such as "no 429" or "sent once".

    ``params`` holds the request parameters decoded the way Telegram reads them: integer
    ids are ``int``, booleans ``bool``, JSON-valued fields (``reply_markup``, ``commands``,
    ...) decoded objects, uploaded files :class:`UploadedFile`. ``timestamp`` is when the
    request arrived (``time.time()``); ``status`` 499 marks a long poll the client abandoned.
    """

    method: str
    params: dict[str, Any]
    status: int
    timestamp: float = field(default_factory=time.time)
    description: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (HTTP 200)."""
        return self.status == 200
