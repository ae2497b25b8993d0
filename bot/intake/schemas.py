"""The intake's JSON contract (generic endpoint, webhooks, connect link), in /openapi.json."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from bot.core.survey import SurveyStatus
from bot.core.text import database_safe
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.intake import limits
from bot.intake.service import ConnectLink, IntakeResult


def _storable(value: object) -> object:
    """Text every database stores, made so before the length limits apply, as the adapters do.

    PostgreSQL refuses NUL, so it is dropped. A lone UTF-16 surrogate (half an emoji, sent as
    an escape or as raw bytes, which ``json`` decodes with "surrogatepass") becomes U+FFFD.
    """
    if not isinstance(value, str):
        return value
    return database_safe(value)


Text = Annotated[str, BeforeValidator(_storable)]

# The plausible closing times, as the year is written: the server and /openapi.json (a pattern
# on the date-time) state the one rule. [0-9], not \d: Python's \d takes every script's digits.
CLOSED_AT_YEARS = "^(20|21)[0-9]{2}-"
_CLOSED_AT_YEARS = re.compile(CLOSED_AT_YEARS)
CLOSED_AT_EXAMPLE = "2026-11-20T14:03:00Z"


def _plausible_closing(value: object) -> object:
    """An ISO 8601 string in the years 2000 to 2199, before it is parsed.

    A date further out is a typo, and would overflow once the delay is added. Judged on the
    text (the year as written), so the schema can say it; a number is refused, as the schema
    declares a string and a number's unit (seconds? milliseconds?) is a guess.
    """
    if not isinstance(value, str):  # pydantic turns a ValueError, not a TypeError, into a 422
        raise ValueError(  # noqa: TRY004
            f"must be an ISO 8601 string with a time zone, e.g. {CLOSED_AT_EXAMPLE}"
        )
    if not _CLOSED_AT_YEARS.match(value):
        raise ValueError(f"must be in the years 2000 to 2199, e.g. {CLOSED_AT_EXAMPLE}")
    return value


ClosedAt = Annotated[AwareDatetime, BeforeValidator(_plausible_closing)]
Tag = Annotated[Text, Field(max_length=limits.TAG, description=f"At most {limits.TAG} characters")]


class CustomerIn(BaseModel):
    """The ticket's customer as the helpdesk knows them; only ``id`` is required.

    A text longer than its limit (``bot.intake.limits``) is refused with a 422 naming it.
    """

    model_config = ConfigDict(extra="ignore")

    id: Text = Field(
        min_length=1, max_length=limits.ID, description="The customer's id in the helpdesk."
    )
    telegram_user_id: int | None = Field(
        default=None, gt=0, le=2**53, description="Known Telegram user id (at most 2^53)."
    )
    phone: Text | None = Field(default=None, max_length=limits.PHONE)
    name: Text | None = Field(default=None, max_length=limits.TEXT)
    language: Text | None = Field(
        default=None, max_length=limits.LANGUAGE, description="e.g. en, ru"
    )
    company: Text | None = Field(default=None, max_length=limits.TEXT)

    def to_info(self) -> CustomerInfo:
        """Convert to the helpdesk-neutral customer."""
        return CustomerInfo(
            helpdesk_id=self.id,
            telegram_user_id=self.telegram_user_id,
            phone=self.phone,
            name=self.name,
            language=self.language,
            company=self.company,
        )


class TicketClosedIn(BaseModel):
    """A ticket that was solved or closed in the helpdesk.

    Every text has a limit (``bot.intake.limits``); a longer one is refused with a 422 naming
    the field (``tags.3``), never cut: the caller can fix the request.
    """

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "ticket_id": "T-1042",
                    "closed_at": "2026-11-20T14:03:00Z",
                    "customer": {"id": "c-77", "name": "Anna", "language": "ru"},
                    "agent": "Ivan",
                    "team": "L2",
                    "channel": "email",
                }
            ]
        },
    )

    ticket_id: Text = Field(min_length=1, max_length=limits.ID)
    closed_at: ClosedAt = Field(
        description=(
            f"ISO 8601 with a time zone, e.g. {CLOSED_AT_EXAMPLE}, in the years 2000 to 2199 "
            "(as written, in the time's own offset)"
        ),
        json_schema_extra={"pattern": CLOSED_AT_YEARS},
    )
    customer: CustomerIn
    agent: Text | None = Field(default=None, max_length=limits.TEXT)
    team: Text | None = Field(default=None, max_length=limits.TEXT)
    channel: Text | None = Field(default=None, max_length=limits.TEXT)
    tags: list[Tag] = Field(
        default_factory=list,
        max_length=limits.TAGS,
        description=(
            f"Ticket tags, at most {limits.TAGS} of at most {limits.TAG} characters each; "
            "NPSBOT_SKIP_TAGS never surveys some (e.g. spam)"
        ),
    )

    def to_event(self) -> TicketClosed:
        """Convert to the helpdesk-neutral event."""
        return TicketClosed(
            ticket_id=self.ticket_id,
            closed_at=self.closed_at,
            customer=self.customer.to_info(),
            agent=self.agent,
            team=self.team,
            channel=self.channel,
            tags=tuple(tag.strip() for tag in self.tags if tag.strip()),
        )


class SurveyOut(BaseModel):
    """The survey created (or found again) for a ticket."""

    survey_id: int
    ticket_id: str
    status: SurveyStatus
    created: bool = Field(description="False when this ticket was already recorded")
    deep_link: str = Field(description="Put this link into the closing message to the client")
    skip_reason: str | None = Field(
        default=None, description="Why this survey will never be sent (e.g. tag:spam), if so"
    )

    @classmethod
    def of(cls, result: IntakeResult) -> SurveyOut:
        """The answer for an intake result."""
        return cls(
            survey_id=result.survey_id,
            ticket_id=result.ticket_id,
            status=result.status,
            created=result.created,
            deep_link=result.deep_link,
            skip_reason=result.skip_reason,
        )


class TicketReopenedIn(BaseModel):
    """A ticket was reopened or updated before its survey went out."""

    model_config = ConfigDict(extra="ignore")

    ticket_id: Text = Field(min_length=1, max_length=limits.ID)


class ReopenedOut(BaseModel):
    """A reopened ticket: how many of its surveys were cancelled before they went out."""

    ticket_id: str
    cancelled: int


class IgnoredOut(BaseModel):
    """A webhook that is neither a closing nor a reopening: nothing was recorded."""

    ignored: str = Field(description="Why, e.g. 'ticket created'")


WebhookOut = SurveyOut | ReopenedOut | IgnoredOut


class ConnectLinkOut(BaseModel):
    """A customer's "connect Telegram" deep link."""

    deep_link: str
    expires_at: AwareDatetime

    @classmethod
    def of(cls, link: ConnectLink) -> ConnectLinkOut:
        """The answer for a connect link."""
        return cls(deep_link=link.deep_link, expires_at=link.expires_at)


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer: what is wrong, and per field where that applies."""

    error: str
    fields: list[dict[str, str]] = Field(default_factory=list)
