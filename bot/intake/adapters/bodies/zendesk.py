"""Zendesk's two bodies: an event subscription's (with type) and a trigger's (with ticket)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.intake.adapters.bodies.document import RequestBody
from bot.intake.adapters.bodies.fields import (
    TEXT,
    USABLE_TEXT,
    Body,
    LabelId,
    NeededId,
    NeededText,
    Open,
    Text,
    either,
    has,
    rules,
)


class ZendeskVia(Body):
    """How the ticket came in."""

    channel: Text = Field(default=None, description="The channel, e.g. web_form")


class ZendeskDetail(Body):
    """The ticket, by ids (events carry no names)."""

    id: NeededId
    requester_id: NeededId = Field(description="The customer")
    assignee_id: LabelId = Field(default=None, description="The agent (dropped if too long)")
    group_id: LabelId = Field(default=None, description="The team (dropped if too long)")
    via: ZendeskVia | Literal[""] | None = None
    tags: Open = Field(default=None, description="The first 50, cut to 100 characters")


class ZendeskStatusChange(Body):
    """The status before and after."""

    current: NeededText = Field(
        description="SOLVED or CLOSED: a closing; OPEN, PENDING, HOLD: a reopening"
    )
    previous: Text = Field(default=None, description="SOLVED or CLOSED before: not a new closing")


class ZendeskEvent(Body):
    """An event subscription's body: zen:event-type:ticket.status_changed is read."""

    type: NeededText = Field(description="The event type; others are acknowledged and ignored")
    time: Open = Field(default=None, description="The closing time (ISO 8601)")
    detail: ZendeskDetail
    event: ZendeskStatusChange


class ZendeskRequester(Body):
    """The customer, with the names and fields a trigger's placeholders fill in."""

    model_config = rules(
        either(has("name", USABLE_TEXT), "first_name", TEXT),
        either(has("name", USABLE_TEXT), "last_name", TEXT),
        either(has("locale", USABLE_TEXT), "language", TEXT),
    )

    id: NeededId
    name: Text = None
    first_name: Open = Field(default=None, description="Read when name is blank")
    last_name: Open = Field(default=None, description="Read when name is blank")
    phone: Text = Field(default=None, description="Dropped when longer than 64 characters")
    locale: Text = Field(default=None, description="e.g. en-US or English")
    language: Open = Field(default=None, description="Read when locale is blank")
    organization: Open = Field(default=None, description="Read when ticket.organization is blank")
    telegram_user_id: Open = Field(default=None, description="A Telegram user id, if known")


class ZendeskTicket(Body):
    """The ticket as a trigger's placeholders render it (docs/integrations.md)."""

    model_config = rules(
        either(
            has("organization", USABLE_TEXT),
            "requester",
            {"properties": {"organization": TEXT}},
        )
    )

    id: NeededId
    status: NeededText = Field(
        description="Solved or closed: a closing; open, pending, hold: a reopening"
    )
    updated_at: Open = Field(default=None, description="The closing time (ISO 8601)")
    requester: ZendeskRequester
    organization: Text = Field(default=None, description="The company")
    assignee: Text = Field(default=None, description="The agent")
    group: Text = Field(default=None, description="The team")
    via: Text = Field(default=None, description="The channel")
    tags: Open = Field(default=None, description="Separated by spaces or commas; the first 50")


class ZendeskTrigger(Body):
    """A trigger's body: no type, a ticket."""

    type: None = Field(default=None, description="Absent: a trigger body, not an event")
    ticket: ZendeskTicket


# The route's body in /openapi.json (bot.intake.webhooks).
BODY = RequestBody((ZendeskEvent, ZendeskTrigger))
