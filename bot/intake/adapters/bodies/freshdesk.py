"""Freshdesk's body, as docs/integrations.md gives it: flat, or wrapped in freshdesk_webhook."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.intake.adapters.bodies.document import RequestBody
from bot.intake.adapters.bodies.fields import (
    TEXT,
    USABLE_ID,
    USABLE_TEXT,
    Body,
    Id,
    NeededId,
    NeededText,
    Open,
    Text,
    either,
    has,
    rules,
)


class FreshdeskFields(Body):
    """The ticket_* and requester_* fields the automation rule's placeholders fill in."""

    model_config = rules(
        either(has("requester_id", USABLE_ID), "requester_email", USABLE_TEXT, needed=True),
        either(has("requester_mobile", USABLE_TEXT), "requester_phone", TEXT),
    )

    triggered_event: Text = Field(
        default=None,
        description="{{triggered_event}}: {status:{from:4,to:5}} and other changes are ignored",
    )
    ticket_id: NeededId
    ticket_status: NeededText = Field(
        description="4 or Resolved, 5 or Closed: a closing; any other status: a reopening"
    )
    ticket_closed_at: Open = Field(default=None, description="The closing time (ISO 8601)")
    ticket_updated_at: Open = Field(default=None, description="Read when ticket_closed_at is not")
    requester_id: Id = Field(default=None, description="The customer")
    requester_email: Open = Field(
        default=None, description="Read when requester_id is missing: hashed, never stored"
    )
    requester_name: Text = None
    requester_mobile: Text = Field(default=None, description="Dropped when over 64 characters")
    requester_phone: Open = Field(default=None, description="Read when requester_mobile is blank")
    requester_language: Text = None
    requester_telegram_user_id: Open = None
    ticket_company_name: Text = None
    ticket_agent_name: Text = None
    ticket_group_name: Text = None
    ticket_source: Text = Field(default=None, description="The channel")
    ticket_tags: Open = Field(default=None, description="Separated by commas; the first 50")


class FreshdeskWrapped(Body):
    """The fields wrapped, as Freshdesk's own examples are."""

    freshdesk_webhook: FreshdeskFields


class FreshdeskFlat(FreshdeskFields):
    """The fields at the top of the body."""

    freshdesk_webhook: Literal[""] | None = Field(default=None, description="Absent")


# The route's body in /openapi.json (bot.intake.webhooks).
BODY = RequestBody((FreshdeskWrapped, FreshdeskFlat))
