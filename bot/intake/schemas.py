"""The generic intake's JSON contract, declared in /openapi.json."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed


class CustomerIn(BaseModel):
    """The ticket's customer as the helpdesk knows them; only ``id`` is required."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=255, description="The customer's id in the helpdesk.")
    telegram_user_id: int | None = Field(default=None, gt=0, description="Known Telegram user id.")
    phone: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=16, description="e.g. en, ru")
    company: str | None = Field(default=None, max_length=255)


class TicketClosedIn(BaseModel):
    """A ticket that was solved or closed in the helpdesk."""

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

    ticket_id: str = Field(min_length=1, max_length=255)
    closed_at: AwareDatetime = Field(
        description="ISO 8601 with a time zone, e.g. 2026-11-20T14:03:00Z"
    )
    customer: CustomerIn
    agent: str | None = Field(default=None, max_length=255)
    team: str | None = Field(default=None, max_length=255)
    channel: str | None = Field(default=None, max_length=255)

    def to_event(self) -> TicketClosed:
        """Convert to the helpdesk-neutral event."""
        return TicketClosed(
            ticket_id=self.ticket_id,
            closed_at=self.closed_at,
            customer=CustomerInfo(
                helpdesk_id=self.customer.id,
                telegram_user_id=self.customer.telegram_user_id,
                phone=self.customer.phone,
                name=self.customer.name,
                language=self.customer.language,
                company=self.customer.company,
            ),
            agent=self.agent,
            team=self.team,
            channel=self.channel,
        )


class SurveyOut(BaseModel):
    """The survey created (or found again) for a ticket."""

    survey_id: int
    ticket_id: str
    status: SurveyStatus
    created: bool = Field(description="False when this ticket was already recorded")
    deep_link: str = Field(description="Put this link into the closing message to the client")


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer: what is wrong, and per field where that applies."""

    error: str
    fields: list[dict[str, str]] = Field(default_factory=list)
