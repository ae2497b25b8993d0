"""Settings from ``NPSBOT_*`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///npsbot.db"


class Settings(BaseSettings):
    """Everything an operator may set; see the configuration table in README.md."""

    model_config = SettingsConfigDict(
        env_prefix="NPSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    bot_username: str | None = Field(
        default=None, description="Used for deep links when the bot is not running (else getMe)."
    )
    manager_chat_id: int | None = None
    database_url: str = DEFAULT_DATABASE_URL
    api_token: SecretStr | None = None
    link_secret: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    timezone: str = "UTC"
    language: str = "en"
    company_name: str = "our company"
    survey_delay_minutes: float = Field(default=0.0, ge=0)
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    digest_cron: str = "0 9 * * mon"
    outbox_give_up_hours: float = Field(default=24.0, gt=0)
    global_rate_per_second: float = Field(default=30.0, gt=0)
    log_level: str = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Moscow)"
            ) from error
        return value

    @field_validator("digest_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        CronTrigger.from_crontab(value)  # raises ValueError naming the bad field
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The team's time zone for digests and cron."""
        return ZoneInfo(self.timezone)

    @property
    def survey_delay(self) -> timedelta:
        """How long after closing a ticket its survey waits."""
        return timedelta(minutes=self.survey_delay_minutes)

    def require_token(self) -> str:
        """Return the bot token, or fail naming the variable so the operator knows what to set."""
        if self.telegram_token is None or not self.telegram_token.get_secret_value().strip():
            raise MissingSettingError("NPSBOT_TELEGRAM_TOKEN", "the bot token from @BotFather")
        return self.telegram_token.get_secret_value().strip()


class MissingSettingError(RuntimeError):
    """A required setting is absent; the message names the environment variable."""

    def __init__(self, variable: str, what: str) -> None:
        super().__init__(f"{variable} is not set: set it to {what}")
        self.variable = variable


def load_settings(**overrides: object) -> Settings:
    """Read settings now (never at import time), with explicit overrides for tests and the CLI."""
    return Settings(**overrides)  # type: ignore[arg-type]
