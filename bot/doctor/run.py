"""The doctor's checks in the order an operator fixes things: settings, Telegram, the rest."""

from __future__ import annotations

from datetime import datetime

from bot.doctor import local, telegram
from bot.doctor.result import Check
from bot.doctor.settings import read_settings


async def doctor(*, now: datetime, **overrides: object) -> list[Check]:
    """Run every check on the settings from the environment (and ``.env``)."""
    settings, problems = read_settings(**overrides)
    checks = [local.check_settings(problems)]
    async with telegram.connect(settings) as (token_check, session):
        checks.append(token_check)
        checks += await telegram.check_chats(session, settings)
        checks.append(local.check_managers(settings.manager_user_ids))
        in_chat = await telegram.check_managers_in_chat(session, settings)
        if in_chat is not None:
            checks.append(in_chat)
        webhook = problems.get("telegram_webhook_url")
        configured = str(webhook.value) if webhook is not None else settings.telegram_webhook_url
        checks.append(await telegram.check_webhook(session, configured))
    checks.append(await local.check_database(settings.database_url))

    def given(field: str, fallback: str) -> str:
        problem = problems.get(field)
        return str(problem.value) if problem is not None else fallback

    checks.append(
        local.check_timezone(
            given("timezone", settings.timezone), given("digest_cron", settings.digest_cron), now
        )
    )
    checks.append(local.check_api_token(settings.api_token))
    checks.append(local.check_link_secret(settings.link_secret))
    return checks
