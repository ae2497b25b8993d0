"""``SimulatedClient``: a Telegram user talking to the bot through the fake.

Tests and the demo act as customers and managers through this class: writing messages
(``/start payload`` included) and tapping inline buttons produce exactly the updates
Telegram would deliver to the bot's ``getUpdates``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.sandbox.models import SentMessage

if TYPE_CHECKING:
    from bot.sandbox.server import FakeBotApi


class SimulatedClient:
    """One user; their private chat with the bot has ``chat_id == user_id``."""

    def __init__(self, fake: FakeBotApi, user_id: int) -> None:
        self._fake = fake
        self.user_id = user_id
        self.chat_id = user_id

    def __repr__(self) -> str:
        return f"SimulatedClient(user_id={self.user_id})"

    @property
    def first_name(self) -> str:
        return self._fake.world.users[self.user_id].first_name

    @property
    def language_code(self) -> str | None:
        return self._fake.world.users[self.user_id].language_code

    async def send_text(
        self, text: str, *, chat_id: int | None = None, reply_to: SentMessage | None = None
    ) -> SentMessage:
        """Write ``text`` into the private chat (or a group via ``chat_id``).

        A leading ``/command`` gets a ``bot_command`` entity so PTB's ``CommandHandler``
        matches. Writing to a bot the user blocked unblocks it first, as restarting a bot
        does in Telegram.
        """
        world = self._fake.world
        target = self.chat_id if chat_id is None else chat_id
        if target not in world.chats:
            raise LookupError(f"chat {target} is unknown to the fake; call add_group() first")
        if target == self.chat_id and world.users[self.user_id].blocked:
            world.set_blocked(self.user_id, False)
        reply_id = reply_to.message_id if reply_to is not None else None
        return world.user_sends(self.user_id, target, text, reply_id)

    async def send_voice(self, seconds: int = 5) -> SentMessage:
        """Record a voice message of ``seconds`` (the duration Telegram reports)."""
        return self._fake.world.user_sends_voice(self.user_id, seconds)

    async def send_sticker(self, emoji: str = "👍") -> SentMessage:
        """Send a sticker: content that is not words."""
        return self._fake.world.user_sends_sticker(self.user_id, emoji)

    async def share_contact(self, phone_number: str, *, own: bool = True) -> SentMessage:
        """Share a contact card: one's own (as the request_contact button does) or someone else's.

        Telegram sends one's own number without the leading ``+``.
        """
        owner = self.user_id if own else None
        return self._fake.world.user_shares_contact(self.user_id, phone_number, owner)

    async def press(self, message: SentMessage, callback_data: str) -> str:
        """Tap an inline button carrying ``callback_data``; returns the callback query id.

        The button need not exist in the keyboard, so tests can forge stale or hostile data.
        The update carries the message as it is now (after any edits).
        """
        current = self._fake.world.find_message(message.chat_id, message.message_id)
        if current is None:
            raise LookupError(
                f"message {message.message_id} in chat {message.chat_id} no longer exists"
            )
        return self._fake.world.press(self.user_id, current, callback_data).id

    async def press_button(self, message: SentMessage, text: str) -> str:
        """Tap the button labelled ``text`` in the message's current inline keyboard."""
        current = self._fake.world.find_message(message.chat_id, message.message_id)
        if current is None:
            raise LookupError(
                f"message {message.message_id} in chat {message.chat_id} no longer exists"
            )
        return await self.press(current, current.callback_data(text))

    def messages(self) -> list[SentMessage]:
        """All messages of the private chat, the user's own included."""
        return self._fake.messages(self.chat_id)

    def bot_messages(self) -> list[SentMessage]:
        return self._fake.bot_messages(self.chat_id)

    def last_bot_message(self) -> SentMessage | None:
        messages = self.bot_messages()
        return messages[-1] if messages else None

    async def wait_for_bot_message(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 -- the documented test-facing API
        *,
        after_message_id: int | None = None,
    ) -> SentMessage:
        """The first bot message in the private chat satisfying ``predicate``."""
        return await self._fake.wait_for(
            lambda message: message.from_bot and predicate(message),
            chat_id=self.chat_id,
            timeout=timeout,
            after_message_id=after_message_id,
        )

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """What the bot answered to one of this user's presses (``None`` until answered)."""
        return self._fake.callback_answer(query_id)

    async def wait_for_callback_answer(
        self,
        query_id: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 -- the documented test-facing API
    ) -> dict[str, Any]:
        return await self._fake.wait_for_callback_answer(query_id, timeout=timeout)

    @property
    def callback_answers(self) -> dict[str, dict[str, Any] | None]:
        """This user's callback query ids mapped to the bot's answers (``None``: unanswered)."""
        return {
            query.id: query.answer
            for query in self._fake.world.callback_queries.values()
            if query.user_id == self.user_id
        }

    def block(self) -> None:
        """Block the bot (its sends to this user now fail with 403)."""
        self._fake.block(self.user_id)

    def unblock(self) -> None:
        self._fake.unblock(self.user_id)
