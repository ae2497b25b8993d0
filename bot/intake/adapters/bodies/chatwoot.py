"""Chatwoot's conversation_status_changed body: the conversation, the contact in meta.sender."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.intake.adapters.bodies.document import RequestBody
from bot.intake.adapters.bodies.fields import (
    TEXT,
    USABLE_TEXT,
    Body,
    NeededId,
    NeededText,
    Open,
    Text,
    either,
    has,
    rules,
)


class ChatwootContactAttributes(Body):
    """What Chatwoot knows of the contact beyond a name."""

    language_code: Text = None
    company_name: Text = None
    social_telegram_user_id: Open = Field(
        default=None, description="The Telegram id, trusted from a Telegram inbox only"
    )


class ChatwootContact(Body):
    """The customer."""

    id: NeededId
    name: Text = None
    phone_number: Text = Field(default=None, description="Dropped when longer than 64 characters")
    additional_attributes: ChatwootContactAttributes | Literal[""] | None = None


class ChatwootAgent(Body):
    """The agent."""

    model_config = rules(either(has("available_name", USABLE_TEXT), "name", TEXT))

    available_name: Text = None
    name: Open = Field(default=None, description="Read when available_name is blank")


class ChatwootTeam(Body):
    """The team."""

    name: Text = None


class ChatwootMeta(Body):
    """Who is on the conversation."""

    sender: ChatwootContact
    assignee: ChatwootAgent | Literal[""] | None = None
    team: ChatwootTeam | Literal[""] | None = None


class ChatwootConversation(Body):
    """A conversation whose status changed; status resolved is a closing."""

    event: NeededText = Field(description="conversation_status_changed; others are ignored")
    id: NeededId
    status: NeededText = Field(
        description="resolved: a closing; open or pending: a reopening; else ignored"
    )
    meta: ChatwootMeta
    channel: Text = Field(default=None, description="The inbox, e.g. Channel::Email")
    updated_at: Open = Field(default=None, description="The closing time (ISO 8601 or Unix)")
    labels: Open = Field(default=None, description="The tags: the first 50, cut to 100 characters")


# The route's body in /openapi.json (bot.intake.webhooks).
BODY = RequestBody((ChatwootConversation,))
