"""HTTP side of the fake: ``/bot<token>/<method>`` routes and the Bot API methods.

Every request goes through :meth:`BotApi.handle`, which authenticates the token, applies
injected faults and flood limits, runs the method against the :class:`World` and records an
:class:`ApiCall`. Handlers only validate and mutate state; errors are raised as
:class:`ApiError` so the envelope is always the one PTB knows how to interpret.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.sandbox.errors import ApiError, bad_request, forbidden, too_many_requests
from bot.sandbox.flood import FloodLimiter, FloodLimits, is_counted
from bot.sandbox.formatting import (
    EntityParseError,
    normalize_parse_mode,
    plain_text,
    utf16_length,
)
from bot.sandbox.markup import edit_markup, parse_reply_markup
from bot.sandbox.media import image_size
from bot.sandbox.models import ApiCall, SentMessage, UploadedFile
from bot.sandbox.params import parse_body
from bot.sandbox.state import ChatRecord, StoredFile, World, scope_key
from bot.sandbox.wire import WireJSONResponse

logger = logging.getLogger(__name__)

Params = dict[str, Any]
Handler = Callable[[Params, Request], Awaitable[Any]]

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
STATUS_CLIENT_GONE: Final = 499
NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_DEFAULT_FAULT_DESCRIPTIONS: Final = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ClientGoneError(Exception):
    """The HTTP client hung up while a long poll was waiting (e.g. PTB cancelled it)."""


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    remaining: int


async def _wait_for_disconnect(request: Request) -> None:
    """Return once the client closes the connection (the body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def _int_param(params: Params, name: str, missing: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(missing)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"invalid {name} specified")
    return value


def _optional_int(params: Params, name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"invalid {name} specified")
    return int(value)


def _optional_str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        return str(value)
    return value


@dataclass
class Chaos:
    """Random faults on every send or edit, the way a bad day at Telegram looks.

    A 5xx or a 429 is answered before the message is made, so a retry is the first delivery.
    A time-out hangs without making the message until the client gives up: a request that
    never reached Telegram. ``seed`` makes a run repeatable.
    """

    rate_5xx: float = 0.0
    rate_429: float = 0.0
    rate_timeout: float = 0.0
    retry_after: int = 1
    hang_seconds: float = 30.0
    seed: int = 0
    struck: dict[str, int] = field(default_factory=lambda: {"5xx": 0, "429": 0, "timeout": 0})
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311  (test chaos, not crypto)

    async def strike(self, request: Request) -> None:
        """Maybe fail this call; returns when it should go through."""
        roll = self._rng.random()
        if roll < self.rate_5xx:
            self.struck["5xx"] += 1
            raise ApiError(502, "Bad Gateway")
        roll -= self.rate_5xx
        if roll < self.rate_429:
            self.struck["429"] += 1
            raise too_many_requests(self.retry_after)
        roll -= self.rate_429
        if roll < self.rate_timeout:
            self.struck["timeout"] += 1
            await asyncio.sleep(self.hang_seconds)
            raise ApiError(504, "Gateway Timeout")


class BotApi:
    """The Bot API methods over one :class:`World`, plus fault injection and call log."""

    def __init__(self, world: World, token: str, limits: FloodLimits) -> None:
        self.world = world
        self.token = token
        self.limiter = FloodLimiter(limits)
        self.calls: list[ApiCall] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self.chaos: Chaos | None = None
        self._closing = False
        self._poll_generation = 0
        self.waiting_polls = 0
        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._ok,
            "close": self._ok,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVoice": self._send_voice,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # -- plumbing ----------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/bot{token}/{method}", self.handle, methods=["GET", "POST"]),
            Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
        ]

    async def _not_found(self, request: Request) -> Response:
        return JSONResponse(ApiError(404, "Not Found").payload(), status_code=404)

    def close(self) -> None:
        """Make pending and future long polls return at once, so the server can stop."""
        self._closing = True
        self.world.changed.notify()

    def reopen(self) -> None:
        """Undo :meth:`close` when the server is started again."""
        self._closing = False

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Queue ``times`` failures for the next calls of ``method`` (case-insensitive)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if retry_after is not None and status == HTTPStatus.INTERNAL_SERVER_ERROR:
            status = HTTPStatus.TOO_MANY_REQUESTS
        if status == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        if description is None:
            if status == HTTPStatus.TOO_MANY_REQUESTS:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_FAULT_DESCRIPTIONS.get(status)
            if description is None:
                try:
                    description = HTTPStatus(status).phrase
                except ValueError:
                    description = f"Error {status}"
        fault = _Fault(int(status), description, retry_after, times)
        self._faults.setdefault(method.lower(), deque()).append(fault)

    def _take_fault(self, method: str) -> ApiError | None:
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
        return ApiError(fault.status, fault.description, parameters)

    async def handle(self, request: Request) -> Response:
        """Serve one ``/bot<token>/<method>`` request and log it in :attr:`calls`."""
        received = time.time()
        token = request.path_params["token"]
        name = request.path_params["method"]
        params: Params = {}
        status = 200
        description: str | None = None
        entry = self._methods.get(name.lower())
        if entry is not None:
            name = entry[0]
        try:
            params = parse_body(
                request.url.query, request.headers.get("content-type", ""), await request.body()
            )
            result = await self._dispatch(token, name, params, request)
            response: Response = WireJSONResponse({"ok": True, "result": result})
        except ApiError as error:
            status, description = error.status, error.description
            response = JSONResponse(error.payload(), status_code=error.status)
        except ClientGoneError:
            status, description = STATUS_CLIENT_GONE, "client closed the connection"
            response = Response(status_code=STATUS_CLIENT_GONE)
        except Exception:
            # A bug in the fake must still look like a Telegram answer and leave a trace.
            logger.exception("fake Bot API failed on %s", name)
            crash = ApiError(500, "Internal Server Error: the fake Bot API crashed")
            status, description = crash.status, crash.description
            response = JSONResponse(crash.payload(), status_code=crash.status)
        self.calls.append(ApiCall(name, params, status, received, description))
        self.world.changed.notify()
        logger.debug("%s -> %s %s", name, status, description or "")
        return response

    async def _dispatch(self, token: str, name: str, params: Params, request: Request) -> Any:
        """Authenticate, apply faults and flood limits, then run the method."""
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        entry = self._methods.get(name.lower())
        if entry is None:
            raise ApiError(404, "Not Found")
        handler = entry[1]
        fault = self._take_fault(name)
        if fault is not None:
            raise fault
        if not is_counted(name):
            return await handler(params, request)
        if self.chaos is not None:
            await self.chaos.strike(request)
        chat_id = params.get("chat_id")
        flood_chat = chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None
        retry_after = self.limiter.retry_after(flood_chat)
        if retry_after is not None:
            raise too_many_requests(retry_after)
        result = await handler(params, request)
        self.limiter.record(flood_chat)
        return result

    # -- shared validation -------------------------------------------------------------

    def _chat(self, params: Params) -> ChatRecord:
        """The chat named by ``chat_id`` (an id or ``@username``); 400 if unknown."""
        value = params.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            for candidate in self.world.chats.values():
                username = candidate.username
                if username is not None and username.lower() == value[1:].lower():
                    return candidate
            raise bad_request("chat not found")
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request("chat not found")
        chat = self.world.chats.get(value)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _member_chat(self, params: Params) -> ChatRecord:
        """A chat the bot is still in: 403 when it was removed, as Telegram answers then."""
        chat = self._chat(params)
        if chat.bot_removed:
            if chat.type == "channel":
                raise forbidden("bot is not a member of the channel chat")
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        return chat

    def _writable_chat(self, params: Params) -> ChatRecord:
        """A chat the bot may post to right now: 403 when blocked or removed from it, 400 in a
        channel where it may not post."""
        chat = self._member_chat(params)
        if chat.type == "private" and self.world.users[chat.id].blocked:
            raise forbidden("bot was blocked by the user")
        if chat.type == "channel" and not (chat.bot_admin and chat.bot_can_post_messages):
            raise bad_request("need administrator rights in the channel chat")
        return chat

    @staticmethod
    def _parse_mode(params: Params) -> str | None:
        try:
            return normalize_parse_mode(_optional_str(params, "parse_mode"))
        except EntityParseError:
            raise bad_request("unsupported parse_mode") from None

    @staticmethod
    def _visible(text: str, parse_mode: str | None) -> str:
        try:
            return plain_text(text, parse_mode)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None

    def _checked_text(self, params: Params, parse_mode: str | None) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        visible = self._visible(text, parse_mode)
        if not visible.strip():
            raise bad_request("message text is empty")
        if utf16_length(visible) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        return text

    def _checked_caption(self, params: Params, parse_mode: str | None) -> str | None:
        caption = _optional_str(params, "caption")
        if not caption:
            return None
        if utf16_length(self._visible(caption, parse_mode)) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        return caption

    def _reply_to(self, params: Params, chat: ChatRecord) -> int | None:
        message_id = params.get("reply_to_message_id")
        allow_missing = params.get("allow_sending_without_reply") is True
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow_missing = reply_parameters.get("allow_sending_without_reply") is True
        if message_id is None:
            return None
        if not isinstance(message_id, int) or self.world.find_message(chat.id, message_id) is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return message_id

    def _editable(self, params: Params) -> SentMessage:
        """The bot's own message an ``edit*`` call targets (live object)."""
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._writable_chat(params)
        message_id = _int_param(params, "message_id", "message identifier is not specified")
        message = self.world.find_message(chat.id, message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _upload(self, params: Params, field: str, kind: str) -> StoredFile:
        """Resolve an uploaded file, an ``attach://`` part, a known ``file_id`` or a URL."""
        value = params.get(field)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            return self._store_upload(value, kind)
        if isinstance(value, str) and value:
            known = self.world.files.get(value)
            if known is not None:
                if known.kind != kind:
                    raise bad_request(
                        f"wrong file identifier/HTTP URL specified: can't use file of type "
                        f"{known.kind.capitalize()} as {kind.capitalize()}"
                    )
                return known
            parts = urlsplit(value)
            if parts.scheme in ("http", "https") and parts.netloc:
                name = parts.path.rsplit("/", 1)[-1] or None
                return self.world.store_file(kind, file_name=name, mime_type=None, data=None)
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {kind} in the request")

    def _store_upload(self, upload: UploadedFile, kind: str) -> StoredFile:
        if not upload.data:
            raise bad_request("file must be non-empty")
        if kind == "photo":
            size = image_size(upload.data)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            return self.world.store_file(
                kind,
                file_name=None,
                mime_type=None,
                data=upload.data,
                width=size[0],
                height=size[1],
            )
        return self.world.store_file(
            kind, file_name=upload.filename, mime_type=upload.content_type, data=upload.data
        )

    # -- methods: bot and updates ------------------------------------------------------

    async def _ok(self, params: Params, request: Request) -> bool:
        return True

    async def _get_me(self, params: Params, request: Request) -> dict[str, Any]:
        return {
            **self.world.bot.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params, request: Request) -> list[dict[str, Any]]:
        """Long polling: answer as soon as there is an update, or after ``timeout`` seconds.

        A newer ``getUpdates`` terminates a waiting older one with 409, as Telegram does when
        two bot instances poll with one token.
        """
        if self.world.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _optional_int(params, "offset", 0)
        limit = min(max(_optional_int(params, "limit", 100), 1), 100)
        timeout_param = params.get("timeout") or 0
        if isinstance(timeout_param, bool) or not isinstance(timeout_param, int | float):
            raise bad_request("invalid timeout specified")
        timeout = max(float(timeout_param), 0.0)
        self.world.confirm_updates(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self.world.changed.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        disconnected = asyncio.ensure_future(_wait_for_disconnect(request))
        self.waiting_polls += 1
        self.world.changed.notify()
        try:
            while True:
                if generation != self._poll_generation:
                    raise ApiError(409, _DEFAULT_FAULT_DESCRIPTIONS[409])
                updates = self.world.pending_updates(limit)
                remaining = deadline - loop.time()
                if updates or self._closing or remaining <= 0:
                    return updates
                changed = asyncio.ensure_future(self.world.changed.event().wait())
                done, _ = await asyncio.wait(
                    {changed, disconnected}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                changed.cancel()
                if disconnected in done:
                    raise ClientGoneError
        finally:
            self.waiting_polls -= 1
            disconnected.cancel()

    async def _set_webhook(self, params: Params, request: Request) -> bool:
        url = _optional_str(params, "url") or ""
        if params.get("drop_pending_updates") is True:
            self.world.drop_updates()
        self.world.webhook_error = None
        if not url:
            self.world.webhook = None
            return True
        if urlsplit(url).scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.world.webhook = {
            key: params[key]
            for key in ("url", "max_connections", "allowed_updates", "ip_address")
            if key in params
        }
        self.world.webhook["has_secret_token"] = "secret_token" in params
        if "secret_token" in params:
            self.world.webhook["secret_token"] = str(params["secret_token"])  # never shown back
        return True

    async def _delete_webhook(self, params: Params, request: Request) -> bool:
        self.world.webhook = None
        self.world.webhook_error = None
        if params.get("drop_pending_updates") is True:
            self.world.drop_updates()
        return True

    async def _get_webhook_info(self, params: Params, request: Request) -> dict[str, Any]:
        webhook = self.world.webhook or {}
        info: dict[str, Any] = {
            "url": webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.world.pending_update_count(),
        }
        for key in ("max_connections", "allowed_updates", "ip_address"):
            if key in webhook:
                info[key] = webhook[key]
        if webhook and self.world.webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.world.webhook_error
        return info

    # -- methods: sending ----------------------------------------------------------------

    async def _send_message(self, params: Params, request: Request) -> dict[str, Any]:
        chat = self._writable_chat(params)
        parse_mode = self._parse_mode(params)
        text = self._checked_text(params, parse_mode)
        inline, other = parse_reply_markup(params.get("reply_markup"))
        message = self.world.add_message(
            chat.id,
            from_bot=True,
            text=text,
            parse_mode=parse_mode,
            reply_markup=inline,
            reply_keyboard=other,
            reply_to_message_id=self._reply_to(params, chat),
        )
        return self.world.message_json(message)

    async def _send_file(self, params: Params, field: str) -> dict[str, Any]:
        chat = self._writable_chat(params)
        parse_mode = self._parse_mode(params)
        caption = self._checked_caption(params, parse_mode)
        inline, other = parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(params, chat)
        stored = self._upload(params, field, field)
        message = self.world.add_message(
            chat.id,
            from_bot=True,
            caption=caption,
            parse_mode=parse_mode,
            reply_markup=inline,
            reply_keyboard=other,
            reply_to_message_id=reply_to,
            file=stored,
        )
        return self.world.message_json(message)

    async def _send_photo(self, params: Params, request: Request) -> dict[str, Any]:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: Params, request: Request) -> dict[str, Any]:
        return await self._send_file(params, "document")

    async def _send_voice(self, params: Params, request: Request) -> dict[str, Any]:
        return await self._send_file(params, "voice")

    async def _send_chat_action(self, params: Params, request: Request) -> bool:
        chat = self._writable_chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.world.chat_actions.setdefault(chat.id, []).append(str(action))
        return True

    # -- methods: editing ----------------------------------------------------------------

    async def _edit_message_text(self, params: Params, request: Request) -> dict[str, Any]:
        message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        parse_mode = self._parse_mode(params)
        text = self._checked_text(params, parse_mode)
        markup = edit_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.text, message.parse_mode, message.reply_markup = text, parse_mode, markup
        self.world.touch(message)
        return self.world.message_json(message)

    async def _edit_message_caption(self, params: Params, request: Request) -> dict[str, Any]:
        message = self._editable(params)
        if message.file_id is None:
            raise bad_request("there is no caption in the message to edit")
        parse_mode = self._parse_mode(params)
        caption = self._checked_caption(params, parse_mode)
        markup = edit_markup(params.get("reply_markup"))
        if caption == message.caption and markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.caption, message.parse_mode, message.reply_markup = caption, parse_mode, markup
        self.world.touch(message)
        return self.world.message_json(message)

    async def _edit_message_reply_markup(self, params: Params, request: Request) -> dict[str, Any]:
        message = self._editable(params)
        markup = edit_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.reply_markup = markup
        self.world.touch(message)
        return self.world.message_json(message)

    async def _delete_message(self, params: Params, request: Request) -> bool:
        chat = self._chat(params)
        message_id = _int_param(params, "message_id", "message identifier is not specified")
        if not self.world.delete_message(chat.id, message_id):
            raise bad_request("message to delete not found")
        return True

    # -- methods: callback queries, commands, chats ------------------------------------

    async def _answer_callback_query(self, params: Params, request: Request) -> bool:
        query_id = _optional_str(params, "callback_query_id")
        query = self.world.callback_queries.get(query_id or "")
        if query is None or query.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = _optional_str(params, "text")
        if text is not None and utf16_length(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "text": text,
            "show_alert": params.get("show_alert") is True,
            "url": _optional_str(params, "url"),
            "cache_time": _optional_int(params, "cache_time", 0),
        }
        query.answered_at = time.time()
        self.world.changed.notify()
        return True

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str]:
        scope = params.get("scope") or None
        if scope is not None and (
            not isinstance(scope, dict) or not isinstance(scope.get("type"), str)
        ):
            raise bad_request("can't parse BotCommandScope JSON object")
        language_code = _optional_str(params, "language_code") or ""
        return scope_key(scope), language_code

    async def _set_my_commands(self, params: Params, request: Request) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        checked = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            checked.append({"command": name, "description": description})
        self.world.commands[self._commands_key(params)] = checked
        return True

    async def _get_my_commands(self, params: Params, request: Request) -> list[dict[str, Any]]:
        return list(self.world.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: Params, request: Request) -> bool:
        self.world.commands.pop(self._commands_key(params), None)
        return True

    async def _get_chat(self, params: Params, request: Request) -> dict[str, Any]:
        chat = self._member_chat(params)
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def _get_chat_member(self, params: Params, request: Request) -> dict[str, Any]:
        chat = self._member_chat(params)
        user_id = _int_param(params, "user_id", "user_id is empty")
        member = self.world.member_json(chat, user_id)
        if member is None:
            raise bad_request("user not found")
        return member
