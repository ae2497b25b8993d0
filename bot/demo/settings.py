"""The demo's settings: built from the fake Telegram alone, never from the environment.

A developer's shell may hold a real ``NPSBOT_TELEGRAM_TOKEN`` or a ``.env`` with production
values; the demo must not pick up any of them (it would point the bot at real Telegram or a
real database), so its settings class reads only what it is given.
"""

from __future__ import annotations

import secrets

from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.config import Settings
from bot.demo.cast import COMPANY, MANAGER_ID, MANAGERS_CHAT
from bot.sandbox import FakeBotApi

SWEEP_INTERVAL_SECONDS = 0.2  # the survey goes out a moment after the ticket closes


class IsolatedSettings(Settings):
    """``Settings`` that ignore ``NPSBOT_*`` variables, ``.env`` and secret files."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings(fake: FakeBotApi, *, database_url: str, api_token: str) -> Settings:
    """Everything on 127.0.0.1: the fake Bot API, the intake on a free port, no delay."""
    return IsolatedSettings(
        telegram_token=SecretStr(fake.token),
        telegram_api_url=fake.base_url,
        database_url=database_url,
        manager_chat_id=MANAGERS_CHAT,
        manager_user_ids=[MANAGER_ID],
        api_token=SecretStr(api_token),
        link_secret=SecretStr(secrets.token_urlsafe(32)),
        http_host="127.0.0.1",
        http_port=0,
        sweep_interval_seconds=SWEEP_INTERVAL_SECONDS,
        survey_delay_minutes=0,
        score_change_minutes=0,  # the first tap is final, so each chat reads as a finished story
        company_name=COMPANY,
        timezone="UTC",
        language="en",
        log_level="WARNING",
    )
