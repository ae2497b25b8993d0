"""The in-memory Telegram world behind the fake API: no HTTP, no asyncio tasks.

Keeping the world free of transport concerns lets the HTTP layer, the test-facing API and
the simulated users all mutate one consistent state, and lets waiters be woken through a
single :class:`ChangeSignal` whenever anything changes.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.formatting import utf16_length
from bot.sandbox.models import SentMessage

_COMMAND_PREFIX_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_PHOTO_SIDES = (90, 320, 800, 1280)


@dataclass
class BotIdentity:
    """Who the bot is: answered by ``getMe`` and used as ``from`` of its messages."""

    id: int
    username: str
    first_name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


@dataclass
class UserRecord:
    """A Telegram user; ``blocked`` means the user blocked the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    blocked: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass
class ChatRecord:
    """A chat the bot can post to; ``bot_removed`` means the bot was kicked from it.

    ``bot_admin`` and ``bot_can_post_messages`` are the bot's rights there: a bot posts to a
    channel only as an administrator allowed to post. ``members`` holds the users known to be
    in a group (they wrote or pressed there, or a test added them), for ``getChatMember``.
    """

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    bot_removed: bool = False
    bot_admin: bool = False
    bot_can_post_messages: bool = True
    members: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for name in ("title", "username", "first_name", "last_name"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


@dataclass
class CallbackQueryRecord:
    """A button press and, once the bot answered it, the ``answerCallbackQuery`` parameters."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None
    answered_at: float | None = None  # time.time() when the answer arrived (bench/answer.py)


@dataclass
class StoredFile:
    """An uploaded document or photo, reusable by ``file_id`` like on Telegram."""

    file_id: str
    file_unique_id: str
    kind: str
    file_name: str | None
    mime_type: str | None
    data: bytes | None
    duration: int = 0  # seconds, for voice messages
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 0

    def document_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name is not None:
            data["file_name"] = self.file_name
        if self.mime_type is not None:
            data["mime_type"] = self.mime_type
        return data

    def photo_json(self) -> list[dict[str, Any]]:
        """Photo sizes the way Telegram returns them: thumbnails first, largest last."""
        width, height = self.width or 800, self.height or 600
        longest = max(width, height)
        sides = [side for side in _PHOTO_SIDES if side < longest] + [min(longest, 2560)]
        sizes = []
        for side in sides:
            scale = side / longest
            sizes.append(
                {
                    "file_id": f"{self.file_id}-{side}",
                    "file_unique_id": f"{self.file_unique_id}-{side}",
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": max(1, round(self.size * scale * scale)),
                }
            )
        return sizes


class ChangeSignal:
    """Wakes every waiter whenever the world changes (edge-triggered, no polling)."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    def event(self) -> asyncio.Event:
        """The event the next :meth:`notify` sets; take it before re-checking a condition."""
        if self._event is None:
            self._event = asyncio.Event()
        return self._event


def scope_key(scope: dict[str, Any] | None) -> str:
    """How ``setMyCommands`` scopes are keyed: sorted JSON, the default scope when absent."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def command_entities(text: str) -> list[dict[str, Any]]:
    """A ``bot_command`` entity for a leading ``/command[@bot]``, as Telegram marks it."""
    if not text.startswith("/"):
        return []
    end = 1
    while end < len(text) and (text[end] in _COMMAND_PREFIX_CHARS or text[end] == "@"):
        end += 1
    if end == 1:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(text[:end])}]


class World:
    """Users, chats, messages, pending updates, callback queries, files and bot settings."""

    def __init__(self, bot: BotIdentity, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.clock = clock
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.chat_actions: dict[int, list[str]] = {}
        self.webhook: dict[str, Any] | None = None
        # (unix time, message) of the last failed webhook delivery, as getWebhookInfo reports it
        self.webhook_error: tuple[int, str] | None = None
        self.changed = ChangeSignal()
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)

    def now(self) -> int:
        return int(self.clock())

    # -- users and chats -------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> UserRecord:
        """Create the user and their private chat (chat id == user id); idempotent."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = self.users.get(user_id)
        if user is None:
            user = UserRecord(user_id, first_name, last_name, username, language_code)
            self.users[user_id] = user
            self.chats[user_id] = ChatRecord(
                user_id, "private", username=username, first_name=first_name, last_name=last_name
            )
        return user

    def add_group(self, chat_id: int, title: str, chat_type: str | None = None) -> ChatRecord:
        """Create a group, supergroup (``-100...`` ids) or channel the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group and channel ids are negative")
        if chat_type is None:
            chat_type = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        if chat_type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        # Telegram adds bots to channels only as administrators.
        chat = ChatRecord(chat_id, chat_type, title=title, bot_admin=chat_type == "channel")
        self.chats[chat_id] = chat
        return chat

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Block/unblock the bot and queue the ``my_chat_member`` update Telegram sends."""
        user = self.users[user_id]
        if user.blocked == blocked:
            return
        user.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")

        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": self.bot.to_json(), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        self.push_update(
            "my_chat_member",
            {
                "chat": self.chats[user_id].to_json(),
                "from": user.to_json(),
                "date": self.now(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def _seen_in(self, chat_id: int, user_id: int) -> None:
        """Only members write or press in a group, so one who did is a member."""
        chat = self.chats.get(chat_id)
        if chat is not None and chat.type != "private":
            chat.members.setdefault(user_id, "member")

    def member_json(self, chat: ChatRecord, user_id: int) -> dict[str, Any] | None:
        """``getChatMember``'s ChatMember object, or None for a user Telegram does not know."""
        if user_id == self.bot.id:
            if chat.bot_admin:
                return self._administrator(chat)
            return {"user": self.bot.to_json(), "status": "member"}
        user = self.users.get(user_id)
        if user is None:
            return None
        if chat.type == "private":
            status = "member" if chat.id == user_id else "left"
        else:
            status = chat.members.get(user_id, "left")
        data: dict[str, Any] = {"user": user.to_json(), "status": status}
        if status == "kicked":
            data["until_date"] = 0
        return data

    def _administrator(self, chat: ChatRecord) -> dict[str, Any]:
        """The bot as a ChatMemberAdministrator, with the rights Telegram reports per chat type."""
        data: dict[str, Any] = {
            "user": self.bot.to_json(),
            "status": "administrator",
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": chat.type != "channel",
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
        }
        if chat.type == "channel":
            data["can_post_messages"] = chat.bot_can_post_messages
            data["can_edit_messages"] = chat.bot_can_post_messages
        else:
            data["can_pin_messages"] = True
        if chat.type == "supergroup":
            data["can_manage_topics"] = False
        return data

    # -- messages --------------------------------------------------------------------

    def add_message(
        self,
        chat_id: int,
        *,
        from_bot: bool,
        from_user_id: int | None = None,
        text: str | None = None,
        caption: str | None = None,
        parse_mode: str | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_keyboard: dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
        file: StoredFile | None = None,
    ) -> SentMessage:
        """Append a message with the chat's next message id and wake waiters."""
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message = SentMessage(
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            caption=caption,
            from_bot=from_bot,
            reply_markup=reply_markup,
            parse_mode=parse_mode,
            edits=0,
            document_name=file.file_name if file is not None and file.kind == "document" else None,
            has_photo=file is not None and file.kind == "photo",
            date=self.now(),
            from_user_id=from_user_id,
            reply_keyboard=reply_keyboard,
            reply_to_message_id=reply_to_message_id,
            entities=list(entities or []),
            file_id=file.file_id if file is not None else None,
            file_bytes=file.data if file is not None else None,
            mime_type=file.mime_type if file is not None else None,
        )
        self._messages.setdefault(chat_id, {})[message_id] = message
        self.changed.notify()
        return message

    def find_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """The live stored message (mutable: callers inside the fake edit it in place)."""
        return self._messages.get(chat_id, {}).get(message_id)

    def touch(self, message: SentMessage) -> None:
        """Record that ``message`` was edited."""
        message.edits += 1
        message.edit_date = self.now()
        self.changed.notify()

    def delete_message(self, chat_id: int, message_id: int) -> bool:
        removed = self._messages.get(chat_id, {}).pop(message_id, None)
        if removed is not None:
            self.changed.notify()
        return removed is not None

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Snapshots of the chat's messages in order."""
        return [copy.deepcopy(m) for m in self._messages.get(chat_id, {}).values()]

    def message_json(  # noqa: PLR0912  (one branch per kind of content)
        self, message: SentMessage, *, with_reply: bool = True
    ) -> dict[str, Any]:
        """The message as a Telegram ``Message`` object."""
        chat = self.chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat.to_json(),
        }
        if message.from_bot and chat.type == "channel":
            data["sender_chat"] = chat.to_json()
        elif message.from_bot:
            data["from"] = self.bot.to_json()
        elif message.from_user_id is not None:
            data["from"] = self.users[message.from_user_id].to_json()
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if with_reply and message.reply_to_message_id is not None:
            replied = self.find_message(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = self.message_json(replied, with_reply=False)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.caption is not None:
            data["caption"] = message.caption
        file = self.files.get(message.file_id) if message.file_id is not None else None
        if file is not None and file.kind == "photo":
            data["photo"] = file.photo_json()
        elif file is not None and file.kind == "voice":
            data["voice"] = {**file.document_json(), "duration": file.duration}
        elif file is not None:
            data["document"] = file.document_json()
        if message.reply_markup:
            data["reply_markup"] = copy.deepcopy(message.reply_markup)
        return data

    # -- files -----------------------------------------------------------------------

    def store_file(
        self,
        kind: str,
        *,
        file_name: str | None,
        mime_type: str | None,
        data: bytes | None,
        width: int = 0,
        height: int = 0,
    ) -> StoredFile:
        number = next(self._file_ids)
        prefix = "AgAC" if kind == "photo" else "BQAC"
        stored = StoredFile(
            file_id=f"{prefix}{number:012d}",
            file_unique_id=f"AQAD{number:08d}",
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            data=data,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        if kind == "photo":
            for size in stored.photo_json():
                self.files[size["file_id"]] = stored
        return stored

    # -- updates ---------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for ``getUpdates`` and wake long polls."""
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)
        self.changed.notify()
        return update

    def confirm_updates(self, offset: int) -> None:
        """Forget confirmed updates (``id < offset``); a negative offset keeps the last ones."""
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()

    def drop_updates(self) -> None:
        self._updates.clear()

    def pending_update_count(self) -> int:
        return len(self._updates)

    def pending_updates(self, limit: int | None = None) -> list[dict[str, Any]]:
        items = list(self._updates)
        return copy.deepcopy(items if limit is None else items[:limit])

    def user_sends(
        self, user_id: int, chat_id: int, text: str, reply_to_message_id: int | None = None
    ) -> SentMessage:
        """A user writes into a chat: store the message and queue its ``message`` update."""
        self._seen_in(chat_id, user_id)
        message = self.add_message(
            chat_id,
            from_bot=False,
            from_user_id=user_id,
            text=text,
            reply_to_message_id=reply_to_message_id,
            entities=command_entities(text),
        )
        self.push_update("message", self.message_json(message))
        return copy.deepcopy(message)

    def user_sends_voice(self, user_id: int, seconds: int) -> SentMessage:
        """A user records a voice message in their private chat with the bot."""
        stored = self.store_file("voice", file_name=None, mime_type="audio/ogg", data=b"OggS")
        stored.duration = seconds
        message = self.add_message(user_id, from_bot=False, from_user_id=user_id, file=stored)
        self.push_update("message", self.message_json(message))
        return copy.deepcopy(message)

    def user_sends_sticker(self, user_id: int, emoji: str = "👍") -> SentMessage:
        """A user sends a sticker into their private chat with the bot."""
        message = self.add_message(user_id, from_bot=False, from_user_id=user_id, text=None)
        update = self.message_json(message)
        update["sticker"] = {
            "file_id": f"sticker-{message.message_id}",
            "file_unique_id": f"u-sticker-{message.message_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        self.push_update("message", update)
        return copy.deepcopy(message)

    def user_shares_contact(
        self, user_id: int, phone_number: str, contact_user_id: int | None
    ) -> SentMessage:
        """A user shares a contact card (their own from a request_contact button, or another)."""
        message = self.add_message(user_id, from_bot=False, from_user_id=user_id, text=None)
        update = self.message_json(message)
        update["contact"] = {
            "phone_number": phone_number,
            "first_name": self.users[user_id].first_name,
            **({"user_id": contact_user_id} if contact_user_id is not None else {}),
        }
        self.push_update("message", update)
        return copy.deepcopy(message)

    def press(self, user_id: int, message: SentMessage, data: str) -> CallbackQueryRecord:
        """A user taps an inline button: record the query and queue its update."""
        self._seen_in(message.chat_id, user_id)
        query = CallbackQueryRecord(
            id=str(4_000_000_000_000_000_000 + next(self._query_ids)),
            user_id=user_id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            data=data,
        )
        self.callback_queries[query.id] = query
        self.push_update(
            "callback_query",
            {
                "id": query.id,
                "from": self.users[user_id].to_json(),
                "message": self.message_json(message),
                "chat_instance": str(abs(message.chat_id) * 7919 + 1_000_000_007),
                "data": data,
            },
        )
        return query
