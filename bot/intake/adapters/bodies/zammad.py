"""Zammad's default trigger payload: the ticket with its customer, owner, group, organization."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from bot.intake.adapters.bodies.document import RequestBody
from bot.intake.adapters.bodies.fields import (
    LABEL_ID,
    OBJECT,
    TEXT,
    USABLE_ID,
    USABLE_TEXT,
    Body,
    Id,
    LabelId,
    NeededText,
    Open,
    Text,
    either,
    has,
    rules,
)

_NAMED_USABLE: dict[str, Any] = {
    "anyOf": [USABLE_TEXT, {"type": "object", **has("name", USABLE_TEXT)}]
}


class ZammadNamed(Body):
    """A group or organization as an object."""

    name: Text = None


class ZammadState(Body):
    """The state as an object."""

    name: NeededText


class ZammadCustomer(Body):
    """The customer."""

    model_config = rules(either(has("mobile", USABLE_TEXT), "phone", TEXT))

    id: Id = None
    firstname: Text = None
    lastname: Text = None
    mobile: Text = Field(default=None, description="Dropped when longer than 64 characters")
    phone: Open = Field(default=None, description="Read when mobile is blank")
    organization: Open = Field(default=None, description="Read when ticket.organization is blank")


class ZammadOwner(Body):
    """The agent; the system user (id 1) owns unassigned tickets."""

    id: LabelId = None
    firstname: Text = None
    lastname: Text = None


class ZammadTicket(Body):
    """The ticket; state closed is a closing."""

    model_config = rules(
        either(has("number", USABLE_ID), "id", USABLE_ID, needed=True),
        either(
            has("customer", {"type": "object", **has("id", USABLE_ID)}),
            "customer_id",
            USABLE_ID,
            needed=True,
        ),
        either(
            has("organization", _NAMED_USABLE),
            "customer",
            {"anyOf": [{"not": OBJECT}, {"properties": {"organization": TEXT}}]},
        ),
        either(
            {
                "anyOf": [
                    {"not": has("owner", OBJECT)},
                    has("owner", {"type": "object", **has("id", USABLE_ID)}),
                ]
            },
            "owner_id",
            LABEL_ID,
        ),
    )

    number: Id = Field(default=None, description="The ticket number shown in Zammad: the id")
    id: Open = Field(default=None, description="Read when number is missing")
    state: NeededText | ZammadState = Field(
        description="closed: a closing; new, merged, removed: ignored; else a reopening"
    )
    last_close_at: Open = Field(default=None, description="The closing time (ISO 8601)")
    updated_at: Open = Field(default=None, description="Read when last_close_at is not")
    customer: ZammadCustomer | Literal[""] | None = None
    customer_id: Open = Field(default=None, description="Read when customer.id is missing")
    organization: Text | ZammadNamed = Field(default=None, description="The company")
    group: Text | ZammadNamed = Field(default=None, description="The team")
    owner: ZammadOwner | Literal[""] | None = None
    owner_id: Open = Field(default=None, description="Read when owner.id is missing")
    create_article_type: Text = Field(default=None, description="The channel")
    tags: Open = Field(default=None, description="The first 50, cut to 100 characters")


class ZammadPayload(Body):
    """The default payload (no custom one): ticket and article."""

    ticket: ZammadTicket


# The route's body in /openapi.json (bot.intake.webhooks).
BODY = RequestBody((ZammadPayload,))
