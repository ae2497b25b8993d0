"""Checks that ask the Bot API: the token, every chat the bot posts to, and the webhook.

Only read methods are called (getMe, getChat, getChatMember, getWebhookInfo): the doctor may
run against production at any time without anyone seeing a message. Every error becomes a
failed check; messages are scrubbed of the token, which PTB puts into some of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from telegram import Bot, ChatMemberAdministrator, ChatMemberRestricted, User, WebhookInfo
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError

from bot.config import Settings
from bot.delivery.aiohttp_request import AiohttpRequest
from bot.doctor.result import Check, Status, mask_token

IDENTITY_CHECK = "bot token"
OUT_OF_CHAT = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
IN_CHAT = frozenset(
    {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}
)


@dataclass(frozen=True, slots=True)
class Telegram:
    """A Bot API session whose token Telegram accepted."""

    bot: Bot
    me: User
    token: str

    def scrub(self, error: TelegramError) -> str:
        return scrub(error, self.token)


def scrub(error: TelegramError, token: str) -> str:
    """The error's message with the token masked."""
    return error.message.replace(token, mask_token(token))


@contextlib.asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[tuple[Check, Telegram | None]]:
    """getMe with the configured token: the token check, and a session if it passed."""
    raw = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if not raw:
        yield Check(IDENTITY_CHECK, Status.FAIL, "NPSBOT_TELEGRAM_TOKEN is not set"), None
        return
    timeout = settings.telegram_timeout_seconds
    bot = Bot(
        raw,
        base_url=settings.telegram_api_url,
        request=AiohttpRequest(read_timeout=timeout, connect_timeout=timeout),
        get_updates_request=AiohttpRequest(connection_pool_size=1, read_timeout=timeout),
    )
    try:
        check = await _get_me(bot, raw, settings.telegram_api_url)
        session = Telegram(bot, bot.bot, raw) if check.status is Status.PASS else None
        yield check, session
    finally:
        await bot.shutdown()


def _api_url_hint(api_url: str) -> str:
    """What is wrong with a base URL the token cannot simply be appended to, or "".

    PTB appends the token to the base URL; without the ``/bot`` prefix Telegram answers 404,
    which PTB reports as an invalid token, and the operator would go and revoke a good one.
    """
    if urlsplit(api_url).scheme in ("http", "https") and (
        api_url.endswith("/bot") or "{token}" in api_url
    ):
        return ""
    return (
        f"; NPSBOT_TELEGRAM_API_URL={api_url} must be a Bot API base URL ending in /bot "
        "(the default: https://api.telegram.org/bot)"
    )


async def _get_me(bot: Bot, token: str, api_url: str) -> Check:
    """The token check. Returns rather than yields from ``except``, so that no later error
    carries PTB's InvalidToken (whose message holds the whole token) as its context."""
    masked = mask_token(token)
    hint = _api_url_hint(api_url)
    try:
        await bot.initialize()  # getMe
    except InvalidToken:
        blame = "check the URL" if hint else "check it with @BotFather"
        return Check(IDENTITY_CHECK, Status.FAIL, f"Telegram rejected {masked}: {blame}{hint}")
    except NetworkError as error:
        host = urlsplit(api_url).netloc or api_url
        detail = f"cannot reach the Bot API at {host}: {scrub(error, token)}{hint}"
        return Check(IDENTITY_CHECK, Status.FAIL, detail)
    except TelegramError as error:
        return Check(IDENTITY_CHECK, Status.FAIL, f"getMe failed: {scrub(error, token)}{hint}")
    me = bot.bot
    return Check(IDENTITY_CHECK, Status.PASS, f"@{me.username} (id {me.id}), token {masked}")


def chats_to_check(settings: Settings) -> dict[int, list[str]]:
    """Every chat the bot will post to, with what it is used for."""
    roles: dict[int, list[str]] = {}
    if settings.manager_chat_id is not None:
        roles.setdefault(settings.manager_chat_id, []).append("manager chat")
    for route in settings.alert_routes:
        roles.setdefault(route.chat_id, []).append(f"alerts for {route.field}:{route.value}")
    if settings.digest_chat is not None:
        roles.setdefault(settings.digest_chat, []).append("digest chat")
    return roles


def _may_post(chat_type: str, member: object) -> str | None:
    """Why the bot may not post here given its membership, or None when it may."""
    status = getattr(member, "status", None)
    if status in OUT_OF_CHAT:
        return f"the bot is not in this chat (status {status}): add it"
    if chat_type == ChatType.CHANNEL:
        if not isinstance(member, ChatMemberAdministrator) or not member.can_post_messages:
            return "in a channel the bot must be an administrator allowed to post messages"
        return None
    if isinstance(member, ChatMemberRestricted) and not member.can_send_messages:
        return "the bot is restricted here and may not send messages"
    if status not in IN_CHAT and not isinstance(member, ChatMemberRestricted):
        return f"the bot's status here is {status}"
    return None


async def check_chat(telegram: Telegram, chat_id: int, roles: list[str]) -> Check:
    """The bot is in the chat and may post there (nothing is sent)."""
    name, what = f"chat {chat_id}", ", ".join(roles)
    try:
        chat = await telegram.bot.get_chat(chat_id)
        if chat.type == ChatType.PRIVATE:  # known to the bot: the person started it
            return Check(
                name, Status.PASS, f"{what}: a private chat with someone who started the bot"
            )
        member = await telegram.bot.get_chat_member(chat_id, telegram.me.id)
    except TelegramError as error:
        return Check(name, Status.FAIL, f"{what}: {_chat_error(telegram, error)}")
    title = f"“{chat.title}”" if chat.title else "(no title)"
    problem = _may_post(chat.type, member)
    if problem is not None:
        return Check(name, Status.FAIL, f"{what}: {chat.type} {title}: {problem}")
    return Check(name, Status.PASS, f"{what}: {chat.type} {title}, the bot is {member.status}")


def _chat_error(telegram: Telegram, error: TelegramError) -> str:
    if isinstance(error, BadRequest) and "not found" in error.message.lower():
        return "Telegram knows no such chat for this bot: add the bot, check the id"
    if isinstance(error, Forbidden):
        return f"{telegram.scrub(error)}: add the bot again"
    return telegram.scrub(error)


async def check_chats(telegram: Telegram | None, settings: Settings) -> list[Check]:
    """Each chat the bot posts to; a warning when alerts and digests go nowhere."""
    roles = chats_to_check(settings)
    if not roles:
        return [
            Check(
                "chats",
                Status.WARN,
                "NPSBOT_MANAGER_CHAT_ID is not set: detractor alerts and digests go nowhere",
            )
        ]
    if telegram is None:
        return [
            Check(f"chat {chat_id}", Status.SKIP, "not checked: getMe failed") for chat_id in roles
        ]
    return [await check_chat(telegram, chat_id, what) for chat_id, what in roles.items()]


async def check_managers_in_chat(telegram: Telegram | None, settings: Settings) -> Check | None:
    """Managers who are not in the manager chat never see the alerts they may act on."""
    chat_id, users = settings.manager_chat_id, settings.manager_user_ids
    if telegram is None or chat_id is None or not users or chat_id > 0:
        return None
    absent = []
    for user_id in users:
        try:
            member = await telegram.bot.get_chat_member(chat_id, user_id)
        except TelegramError:
            absent.append(user_id)  # unknown to Telegram here, or the chat failed above
            continue
        if member.status in OUT_OF_CHAT:
            absent.append(user_id)
    name = "managers in chat"
    if absent:
        ids = ", ".join(str(user_id) for user_id in absent)
        return Check(name, Status.WARN, f"not in the manager chat {chat_id}: {ids}")
    return Check(name, Status.PASS, f"every manager is in the manager chat {chat_id}")


def _shown_url(url: str, token: str) -> str:
    return url.replace(token, mask_token(token)) if url else "none"


async def check_webhook(telegram: Telegram | None, configured: str | None) -> Check:
    """Webhook mode: Telegram calls our URL and had no trouble; polling: no webhook in the way.

    ``configured`` is NPSBOT_TELEGRAM_WEBHOOK_URL as given, even when the settings refused it:
    an http:// URL means webhook mode was meant, and "polling" would be the wrong verdict.
    """
    name = "updates"
    if configured is not None and not configured.startswith("https://"):
        return Check(
            name,
            Status.FAIL,
            f"NPSBOT_TELEGRAM_WEBHOOK_URL={configured} is not https://: Telegram only calls "
            "HTTPS webhooks (the bot would not start)",
        )
    if telegram is None:
        return Check(name, Status.SKIP, "not checked: getMe failed")
    try:
        info = await telegram.bot.get_webhook_info()
    except TelegramError as error:
        return Check(name, Status.FAIL, f"getWebhookInfo failed: {telegram.scrub(error)}")
    if configured is None:
        return Check(name, *_polling_verdict(info, telegram.token))
    return Check(name, *_webhook_verdict(info, configured, telegram.token))


def _polling_verdict(info: WebhookInfo, token: str) -> tuple[Status, str]:
    if info.url:
        return (
            Status.WARN,
            f"polling, but Telegram has a webhook set ({_shown_url(info.url, token)}): "
            "getUpdates conflicts with it, and `npsbot run` deletes it when it starts",
        )
    return Status.PASS, f"polling; no webhook set; {info.pending_update_count} update(s) waiting"


def _webhook_verdict(info: WebhookInfo, configured: str, token: str) -> tuple[Status, str]:
    pending = f"{info.pending_update_count} update(s) waiting"
    if not info.url:
        return Status.WARN, f"webhook {configured} is not registered yet: `npsbot run` does it"
    if info.url != configured:
        return (
            Status.FAIL,
            f"Telegram delivers to {_shown_url(info.url, token)}, "
            f"not to NPSBOT_TELEGRAM_WEBHOOK_URL={configured}",
        )
    if info.last_error_message:
        when = f" at {info.last_error_date:%Y-%m-%d %H:%M %Z}" if info.last_error_date else ""
        return (
            Status.WARN,
            f"webhook {configured}; Telegram's last delivery failed{when}: "
            f"{info.last_error_message}; {pending}",
        )
    return Status.PASS, f"webhook {configured}; {pending}"
