"""``FakeBotApi``: the fake Telegram Bot API served over real HTTP on the caller's loop.

Serving real HTTP (rather than mocking PTB's request object) means the bot under test runs
its production code path -- PTB's HTTPX client, request encoding, error mapping, retries and
the polling updater -- and only the ``base_url`` differs. Running uvicorn as a task on the
current loop lets one test drive the bot and the fake in a single event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette

from bot.sandbox.api import BotApi
from bot.sandbox.client import SimulatedClient
from bot.sandbox.control import control_routes
from bot.sandbox.flood import FloodLimits
from bot.sandbox.models import ApiCall, SentMessage
from bot.sandbox.state import BotIdentity, World, scope_key
from bot.sandbox.wire import json_bytes

DEFAULT_LIMITS = FloodLimits()
_T = TypeVar("_T")
_TICK = 0.1


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without signal handling and with a prompt exit.

    The host program (pytest, ``npsbot demo``, a benchmark) owns SIGINT/SIGTERM; uvicorn must
    not replace those handlers. Exiting on an event instead of uvicorn's 0.1 s polling
    keeps per-test start/stop cheap.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit and not self.exit_requested.is_set():
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.exit_requested.wait(), _TICK)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown minus its fixed 0.1 s pause (lifespan is off here)."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 0)
        state = self.server_state
        # uvicorn offers no event for "all connections closed"; this loop usually ends at once.
        while (state.connections or state.tasks) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        for task in state.tasks:
            task.cancel()


class FakeBotApi:
    """A fake Bot API server plus the test-facing view of the Telegram world behind it.

    Use as ``async with FakeBotApi() as fake:`` and point PTB at ``fake.base_url``.
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST",  # noqa: S107 -- a fake token for a fake server
        bot_username: str = "npsbot_test_bot",
        bot_id: int = 123456,
        limits: FloodLimits = DEFAULT_LIMITS,
        bot_first_name: str = "NPS Test Bot",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.limits = limits
        self.world = World(BotIdentity(bot_id, bot_username, bot_first_name))
        self.api = BotApi(self.world, token, limits)
        self.app = Starlette(routes=[*control_routes(self), *self.api.routes()])
        self._clients: dict[int, SimulatedClient] = {}
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._url: str | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._webhook_target: str | None = None
        self.webhook_deliveries = 0
        self.webhook_failures = 0

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (0 picks a free port) until :meth:`stop`."""
        if self._server is not None:
            raise RuntimeError("FakeBotApi is already started")
        config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        server = _EmbeddedServer(config)
        self.api.reopen()
        task = asyncio.create_task(self._serve(server), name="fake-bot-api")
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("fake Bot API server exited during startup")
            await asyncio.sleep(0.005)
        sockname = server.servers[0].sockets[0].getsockname()
        bound_host = f"[{sockname[0]}]" if ":" in sockname[0] else sockname[0]
        self._url = f"http://{bound_host}:{sockname[1]}"
        self._server, self._task = server, task

    @staticmethod
    async def _serve(server: _EmbeddedServer) -> None:
        # uvicorn reports a failed bind with sys.exit(); a SystemExit escaping a task would
        # tear down the caller's whole event loop.
        try:
            await server.serve()
        except SystemExit as exc:
            raise RuntimeError(f"fake Bot API server failed to start (exit {exc.code})") from exc

    async def stop(self) -> None:
        """Release long polls, stop serving and close connections; idempotent."""
        server, task = self._server, self._task
        if server is None or task is None:
            return
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        self.api.close()
        server.should_exit = True
        server.exit_requested.set()
        await task
        self._server = self._task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._url is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._url

    @property
    def base_url(self) -> str:
        """What PTB's ``base_url`` takes: PTB appends the token and method."""
        return f"{self.url}/bot"

    # -- the world -----------------------------------------------------------------------

    def client(
        self,
        user_id: int,
        first_name: str = "Client",
        *,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> SimulatedClient:
        """A user with a private chat with the bot (chat id == user id); same object per id."""
        existing = self._clients.get(user_id)
        if existing is not None:
            return existing
        self.world.add_user(user_id, first_name, language_code=language_code, username=username)
        client = SimulatedClient(self, user_id)
        self._clients[user_id] = client
        return client

    def add_group(
        self, chat_id: int, title: str = "Managers", *, chat_type: str | None = None
    ) -> None:
        """A group (or ``-100...`` supergroup, or ``chat_type="channel"``) the bot is in."""
        self.world.add_group(chat_id, title, chat_type)

    def kick_bot(self, chat_id: int) -> None:
        """The bot was removed from a group: sends there now fail with 403."""
        self.world.chats[chat_id].bot_removed = True

    def set_bot_rights(self, chat_id: int, *, admin: bool, can_post_messages: bool = True) -> None:
        """Make the bot an administrator of a group or channel (or not), as ``getChatMember``
        reports it; in a channel it may post only as an administrator with ``can_post_messages``.
        """
        chat = self.world.chats[chat_id]
        chat.bot_admin, chat.bot_can_post_messages = admin, can_post_messages

    def add_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """Put a user into a group with ``status`` (member, administrator, left, kicked...)."""
        if user_id not in self.world.users:
            self.client(user_id)
        self.world.chats[chat_id].members[user_id] = status

    def webhook_failed(self, message: str) -> None:
        """Record a failed webhook delivery, as ``getWebhookInfo`` then reports it."""
        self.world.webhook_error = (self.world.now(), message)
        self.world.changed.notify()

    async def wait_for_webhook_error(
        self,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 -- the documented test-facing API
    ) -> str:
        """Wait until a webhook delivery has failed; returns the error getWebhookInfo reports."""
        return await self._wait_until(
            lambda: None if self.world.webhook_error is None else self.world.webhook_error[1],
            timeout,
            lambda: f"no webhook delivery failed within {timeout:g}s",
        )

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sends to them fail with 403 Forbidden."""
        if user_id not in self.world.users:
            self.client(user_id)
        self.world.set_blocked(user_id, True)

    def unblock(self, user_id: int) -> None:
        self.world.set_blocked(user_id, False)

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Messages now in the chat (bot's and users'), as the latest edit left them."""
        return self.world.messages(chat_id)

    def bot_messages(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.world.messages(chat_id) if m.from_bot]

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        *,
        chat_id: int,
        timeout: float = 10.0,  # noqa: ASYNC109 -- the documented test-facing API
        after_message_id: int | None = None,
    ) -> SentMessage:
        """The first message in the chat (new or edited) satisfying ``predicate``.

        ``after_message_id`` restricts the search to later messages, to wait for a reply
        rather than match an older one. Raises ``TimeoutError`` listing the chat's messages.
        Exceptions from ``predicate`` propagate: ``m.content`` (text or caption, never
        ``None``) keeps predicates safe around photos and documents.
        """

        def find() -> SentMessage | None:
            for message in self.world.messages(chat_id):
                if after_message_id is not None and message.message_id <= after_message_id:
                    continue
                if predicate(message):
                    return message
            return None

        return await self._wait_until(find, timeout, lambda: self._describe_chat(chat_id, timeout))

    async def _wait_until(
        self, find: Callable[[], _T | None], seconds: float, describe: Callable[[], str]
    ) -> _T:
        """Re-run ``find`` after every change of the world until it returns something."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            changed = self.world.changed.event()
            found = find()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(describe())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _describe_chat(self, chat_id: int, timeout: float) -> str:
        header = f"no message in chat {chat_id} matched within {timeout:g}s"
        if chat_id not in self.world.chats:
            return f"{header}; the fake does not know this chat"
        messages = self.world.messages(chat_id)
        lines = [f"{header}; the chat has {len(messages)} message(s):"]
        lines += [f"  {message.describe()}" for message in messages]
        return "\n".join(lines)

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """The ``answerCallbackQuery`` parameters for a press, ``None`` while unanswered.

        Raises ``KeyError`` for a query id the fake never issued.
        """
        query = self.world.callback_queries.get(query_id)
        if query is None:
            raise KeyError(f"unknown callback query {query_id!r}")
        return query.answer

    async def wait_for_callback_answer(
        self,
        query_id: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 -- the documented test-facing API
    ) -> dict[str, Any]:
        """Wait until the bot answered the callback query."""
        return await self._wait_until(
            lambda: self.callback_answer(query_id),
            timeout,
            lambda: f"callback query {query_id} not answered within {timeout:g}s",
        )

    def queue_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue an arbitrary update (e.g. a forged one); returns its ``update_id``."""
        return int(self.world.push_update(kind, payload)["update_id"])

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by the bot."""
        return self.world.pending_updates()

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Commands set with ``setMyCommands`` for exactly this scope and language."""
        key = scope_key(scope)
        return list(self.world.commands.get((key, language_code), []))

    def chat_actions(self, chat_id: int) -> list[str]:
        """``sendChatAction`` actions received for the chat, in order."""
        return list(self.world.chat_actions.get(chat_id, []))

    @property
    def webhook_url(self) -> str | None:
        webhook = self.world.webhook
        return None if webhook is None else str(webhook.get("url"))

    def deliver_webhooks_to(self, local_base_url: str) -> None:
        """POST updates to the webhook the bot set, as Telegram does, but at ``local_base_url``.

        Telegram calls the public HTTPS URL; a reverse proxy forwards it to the bot. Here the
        URL's path is kept and its scheme and host replaced, which is what that proxy does. An
        update is confirmed only by a 2xx answer, and retried otherwise, like Telegram.
        """
        self._webhook_target = local_base_url.rstrip("/")
        if self._pusher is None:
            self._pusher = asyncio.create_task(self._push_webhooks(), name="fake-webhook")

    async def _push_webhooks(self) -> None:
        async with httpx.AsyncClient(timeout=30.0) as http:
            while True:
                changed = self.world.changed.event()
                webhook, pending = self.world.webhook, self.world.pending_updates(1)
                if webhook is None or not pending or self._webhook_target is None:
                    await changed.wait()
                    continue
                update = pending[0]
                headers = {"Content-Type": "application/json"}
                if "secret_token" in webhook:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(webhook["secret_token"])
                target = self._webhook_target + (urlsplit(str(webhook["url"])).path or "/")
                try:
                    answer = await http.post(target, content=json_bytes(update), headers=headers)
                    delivered = answer.is_success
                    error = (
                        "Wrong response from the webhook: "
                        f"{answer.status_code} {answer.reason_phrase}"
                    )
                except httpx.HTTPError:
                    delivered, error = False, "Connection refused"
                if delivered:
                    self.world.confirm_updates(int(update["update_id"]) + 1)
                    self.webhook_deliveries += 1
                else:
                    self.webhook_failures += 1
                    self.webhook_failed(error)
                    await asyncio.sleep(0.2)  # Telegram backs off, then tries the same update

    # -- the wire ------------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        """Every request received, logged when answered, stamped when it arrived (live list)."""
        return self.api.calls

    def calls_of(self, method: str) -> list[ApiCall]:
        """Calls of one method (case-insensitive)."""
        return [call for call in self.api.calls if call.method.lower() == method.lower()]

    async def wait_for_call(
        self,
        predicate: Callable[[ApiCall], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 -- the documented test-facing API
    ) -> ApiCall:
        """The first recorded call satisfying ``predicate``, waiting for it if needed."""

        def describe() -> str:
            seen = ", ".join(f"{c.method}->{c.status}" for c in self.api.calls[-20:])
            return f"no matching Bot API call within {timeout:g}s; last calls: {seen}"

        return await self._wait_until(
            lambda: next((call for call in self.api.calls if predicate(call)), None),
            timeout,
            describe,
        )

    async def wait_for_long_poll(
        self,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 -- the documented test-facing API
    ) -> None:
        """Wait until a ``getUpdates`` long poll is parked on the server.

        Lets a test prove that an update wakes a waiting poll rather than being picked up
        by the next one.
        """
        await self._wait_until(
            lambda: True if self.api.waiting_polls else None,
            timeout,
            lambda: f"no getUpdates long poll arrived within {timeout:g}s",
        )

    @property
    def waiting_polls(self) -> int:
        """How many ``getUpdates`` long polls are currently parked on the server."""
        return self.api.waiting_polls

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        ``retry_after`` alone turns the failure into a 429 carrying it (PTB ``RetryAfter``);
        500/502 become PTB ``NetworkError``, 400 ``BadRequest``, 403 ``Forbidden``.
        """
        self.api.fail_next(
            method, status=status, times=times, retry_after=retry_after, description=description
        )
