"""Settings from ``NPSBOT_*`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core import deeplink
from bot.core.routing import AlertRoute, parse_routes
from bot.core.rules import SurveyRules
from bot.intake import limits

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///npsbot.db"


class Settings(BaseSettings):
    """Everything an operator may set; see the configuration table in README.md."""

    model_config = SettingsConfigDict(
        env_prefix="NPSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS URL Telegram posts updates to (webhook mode); unset: polling",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret token Telegram sends with each update (default: derived)"
    )
    bot_username: str | None = Field(
        default=None, description="Used for deep links when the bot is not running (else getMe)."
    )
    manager_chat_id: int | None = None
    manager_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Telegram user ids allowed to act on alerts and use manager commands ('1,2')",
    )
    alert_routes: Annotated[list[AlertRoute], NoDecode] = Field(
        default_factory=list,
        description="Alert chats by team, channel or company: 'team:Billing=-100123; channel:...'",
    )
    alert_reannounce_hours: float = Field(default=4.0, ge=0)  # 0 turns re-announcing off
    alert_reannounce_max: int = Field(default=3, ge=0)
    ticket_url_template: str | None = Field(
        default=None,
        description="Link to a ticket, e.g. https://acme.zendesk.com/agent/tickets/{id}",
    )
    recovery_survey: bool = Field(
        default=False, description="Ask a resolved detractor 'did we make it right?'"
    )
    digest_chat_id: int | None = Field(
        default=None, description="Where the weekly digest goes (default: the manager chat)"
    )
    digest_period: Literal["week", "month"] = "week"
    digest_min_group_size: int = Field(default=5, ge=1)
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = Field(
        default=20,  # storage.db.POOL_SIZE (config does not import storage)
        # The polling lock keeps one connection for as long as the bot runs: with one alone,
        # every handler would wait for it and fail as if the database were out.
        ge=2,
        le=500,
        description=(
            "PostgreSQL connections the bot keeps open; a handler that finds all busy waits "
            "for one (SQLite ignores it)"
        ),
    )
    database_max_overflow: int = Field(
        default=0,
        ge=0,
        le=500,
        description="Extra connections opened in a burst beyond the pool, closed after use",
    )
    api_token: SecretStr | None = None
    link_secret: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    http_max_body_bytes: int = Field(
        default=limits.BODY_BYTES,
        ge=1024,
        description="Largest request body the HTTP server reads; larger ones get 413",
    )
    timezone: str = "UTC"
    language: str = "en"
    extra_questions: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra 1-5 questions after the NPS one, separated by ';'",
    )
    review_url: str | None = Field(
        default=None, description="Public review page offered to promoters (9-10)"
    )
    score_change_minutes: float = Field(default=10.0, ge=0)
    texts_file: str | None = Field(
        default=None, description="TOML file of per-language text overrides (docs/texts.md)"
    )
    themes_file: str | None = Field(
        default=None,
        description="TOML file that adds, renames, removes or extends themes (docs/themes.md)",
    )
    company_name: str = "our company"
    survey_delay_minutes: float = Field(default=30.0, ge=0)
    throttle_days: float = Field(default=30.0, ge=0)
    reminder_hours: float = Field(default=24.0, ge=0)  # 0 turns reminders off
    survey_lifetime_days: float = Field(default=7.0, gt=0)
    link_ttl_days: float = Field(default=30.0, gt=0)
    enps_link_ttl_days: float = Field(
        default=365.0, gt=0, description="How long an employee NPS campaign's join link is valid"
    )
    skip_tags: Annotated[list[str], NoDecode] = Field(default_factory=list)
    skip_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    phone_region: str | None = Field(
        default=None, description="Region for phone numbers without +country code, e.g. RU"
    )
    webhook_max_skew_seconds: int = Field(default=300, ge=1)
    generic_webhook_secret: SecretStr | None = None
    zendesk_secret: SecretStr | None = None
    freshdesk_secret: SecretStr | None = None
    zammad_secret: SecretStr | None = None
    helpscout_secret: SecretStr | None = None
    helpscout_mailboxes: Annotated[dict[int, str], NoDecode] = Field(
        default_factory=dict,
        description="Team names of Help Scout mailboxes by id ('123=Billing,456=Support')",
    )
    chatwoot_secret: SecretStr | None = None
    jira_secret: SecretStr | None = None
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    digest_cron: str = "0 9 * * mon"
    outbox_give_up_hours: float = Field(default=24.0, gt=0)
    global_rate_per_second: float = Field(default=30.0, gt=0)
    outbox_concurrency: int = Field(
        default=1,
        ge=1,
        le=128,
        description=(
            "Bot API calls in flight at once; more than 1 only for paid broadcasts, and then at "
            "most this many messages may go twice after a crash"
        ),
    )
    telegram_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a Bot API call may take before it is retried"
    )
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or one JSON object per line"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token GET /metrics asks for; unset: /metrics is open"
    )

    @field_validator("skip_tags", "skip_channels", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """``spam, auto-closed`` in the environment becomes ["spam", "auto-closed"]."""
        if isinstance(value, str):
            return [item.strip().lower() for item in value.split(",") if item.strip()]
        return value

    @field_validator("manager_user_ids", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        """``111, 222`` in the environment becomes [111, 222]; a bad id is named in the error."""
        if isinstance(value, str):
            ids = []
            for item in (part.strip() for part in value.split(",")):
                if not item:
                    continue
                try:
                    ids.append(int(item))
                except ValueError:
                    raise ValueError(f"{item!r} is not a Telegram user id") from None
            return ids
        return value

    @field_validator("helpscout_mailboxes", mode="before")
    @classmethod
    def _mailbox_names(cls, value: object) -> object:
        """``123=Billing, 456=Support`` becomes {123: "Billing", 456: "Support"}.

        Help Scout's webhooks name a mailbox by its number only; this is how the operator names
        it as a team. A bad item is quoted in the error.
        """
        if not isinstance(value, str):
            return value
        names: dict[int, str] = {}
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            number, _, name = (piece.strip() for piece in item.partition("="))
            if not (number.isascii() and number.isdigit()) or not name:
                raise ValueError(f"{item!r} is not '<mailbox id>=<team name>', e.g. 123=Billing")
            if int(number) in names:
                raise ValueError(f"mailbox {number} is named twice")
            names[int(number)] = name
        return names

    @field_validator("alert_routes", mode="before")
    @classmethod
    def _routes(cls, value: object) -> object:
        """``team:Billing=-100123; company:ACME=-100456`` becomes routing rules, in order."""
        if isinstance(value, str):
            return list(parse_routes(value))
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("Telegram only calls HTTPS webhooks: use an https:// URL")
        return value

    @field_validator("ticket_url_template")
    @classmethod
    def _ticket_template(cls, value: str | None) -> str | None:
        if value is not None and "{id}" not in value:
            raise ValueError("the template must contain {id}, e.g. https://x.example/tickets/{id}")
        return value

    @field_validator("extra_questions", mode="before")
    @classmethod
    def _semicolon_list(cls, value: object) -> object:
        """``Quality of the work; Speed of the answer`` becomes two questions (labels keep case)."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(";") if item.strip()]
        return value

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

    @property
    def survey_rules(self) -> SurveyRules:
        """The survey rules as the core takes them."""
        return SurveyRules(
            delay=self.survey_delay,
            throttle=timedelta(days=self.throttle_days),
            reminder_after=timedelta(hours=self.reminder_hours) if self.reminder_hours else None,
            lifetime=timedelta(days=self.survey_lifetime_days),
            skip_tags=frozenset(self.skip_tags),
            skip_channels=frozenset(self.skip_channels),
        )

    @property
    def digest_chat(self) -> int | None:
        """The chat the weekly digest goes to."""
        return self.digest_chat_id if self.digest_chat_id is not None else self.manager_chat_id

    @property
    def manager_chats(self) -> frozenset[int]:
        """Every chat alerts go to: where managers may press buttons and give commands."""
        chats = {route.chat_id for route in self.alert_routes}
        for chat in (self.manager_chat_id, self.digest_chat_id):
            if chat is not None:
                chats.add(chat)
        return frozenset(chats)

    def require_token(self) -> str:
        """Return the bot token, or fail naming the variable so the operator knows what to set."""
        if self.telegram_token is None or not self.telegram_token.get_secret_value().strip():
            raise MissingSettingError("NPSBOT_TELEGRAM_TOKEN", "the bot token from @BotFather")
        return self.telegram_token.get_secret_value().strip()

    def require_link_secret(self) -> bytes:
        """The key that signs deep links: NPSBOT_LINK_SECRET, or one derived from the token.

        One derivation for the bot and ``npsbot campaign link``: a link one of them signs, the
        other must accept.
        """
        if self.link_secret:
            return self.link_secret.get_secret_value().encode()
        return deeplink.derive_secret(self.require_token())


def secret_value(value: SecretStr | None) -> str | None:
    """A secret setting's text, or None when it is not set (or set empty)."""
    return value.get_secret_value() if value else None


class MissingSettingError(RuntimeError):
    """A required setting is absent; the message names the environment variable."""

    def __init__(self, variable: str, what: str) -> None:
        super().__init__(f"{variable} is not set: set it to {what}")
        self.variable = variable


def load_settings(**overrides: object) -> Settings:
    """Read settings now (never at import time), with explicit overrides for tests and the CLI."""
    return Settings(**overrides)  # type: ignore[arg-type]
