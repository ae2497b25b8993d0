"""Help Scout's ``convo.status`` body: the v2 Conversation object, or a legacy v1 one.

v1 names are read where the v2 one is missing: ``customer`` for ``primaryCustomer``, ``owner``
for ``assignee``, ``firstName``/``lastName`` for ``first``/``last``, the conversation's
``type`` for ``source.type``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.intake.adapters.bodies.document import RequestBody
from bot.intake.adapters.bodies.fields import (
    OBJECT,
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
    nested,
    ref,
    rules,
)

_FIRST = either(has("first", USABLE_TEXT), "firstName", TEXT)
_LAST = either(has("last", USABLE_TEXT), "lastName", TEXT)


class HelpScoutPerson(Body):
    """A user or customer (v2 ``first``/``last``, v1 ``firstName``/``lastName``)."""

    model_config = rules(_FIRST, _LAST)

    first: Text = None
    last: Text = None
    firstName: Open = Field(default=None, description="v1: read when first is blank")
    lastName: Open = Field(default=None, description="v1: read when last is blank")


class HelpScoutCustomer(HelpScoutPerson):
    """The customer asked for their score."""

    id: NeededId
    phone: Text = Field(default=None, description="Dropped when longer than 64 characters")


class HelpScoutSource(Body):
    """Where the conversation came from."""

    type: Text = Field(default=None, description="The channel, e.g. email")


class HelpScoutMailbox(Body):
    """v1's mailbox (a MailboxRef)."""

    id: LabelId = None
    name: Text = Field(
        default=None, description="The team, unless NPSBOT_HELPSCOUT_MAILBOXES names it"
    )


class HelpScoutConversation(Body):
    """A conversation whose status changed; status closed is a closing."""

    model_config = rules(
        either(has("primaryCustomer", OBJECT), "customer", ref(HelpScoutCustomer), needed=True),
        either(has("assignee", OBJECT), "owner", nested(HelpScoutPerson)),
        either(has("source", {"type": "object", **has("type", USABLE_TEXT)}), "type", TEXT),
    )

    id: NeededId
    status: NeededText = Field(
        description="closed: a closing; active, pending or open: a reopening; else ignored"
    )
    closedAt: Open = Field(
        default=None, description="The closing time (ISO 8601); else userUpdatedAt, else now"
    )
    userUpdatedAt: Open = None
    primaryCustomer: HelpScoutCustomer | Literal[""] | None = None
    customer: Open = Field(default=None, description="v1: read when primaryCustomer is missing")
    assignee: HelpScoutPerson | Literal[""] | None = Field(default=None, description="The agent")
    owner: Open = Field(default=None, description="v1: read when assignee is missing")
    source: HelpScoutSource | Literal[""] | None = None
    type: Open = Field(default=None, description="The channel when source.type is missing")
    mailboxId: LabelId = Field(
        default=None, description="The team: named by NPSBOT_HELPSCOUT_MAILBOXES, or 'mailbox <id>'"
    )
    mailbox: HelpScoutMailbox | Literal[""] | None = Field(default=None, description="v1")
    tags: Open = Field(
        default=None, description="[{tag: ...}] (v1: strings); the first 50, cut to 100 characters"
    )


# The route's body in /openapi.json (bot.intake.webhooks).
BODY = RequestBody(
    (HelpScoutConversation,),
    headers=(
        {
            "name": "X-HelpScout-Event",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "convo.status is read; other events are acknowledged and ignored",
        },
    ),
)
