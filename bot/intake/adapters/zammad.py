"""Zammad: a trigger's webhook (Manage > Webhook, used by a trigger's "Webhook" action).

Zammad signs ``X-Hub-Signature: sha1=<hex HMAC-SHA1(token, body)>`` and sends no timestamp,
so replays are caught by the store's de-duplication. The default payload has ``ticket`` (with
state, customer, owner, group, organization) and ``article``. The closing time is
``last_close_at`` (set on every closing, unchanged by later edits of a closed ticket) or else
``updated_at``; never ``close_at``, which keeps the first closing forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.core.tickets import CustomerInfo
from bot.intake.adapters import signatures
from bot.intake.adapters.base import (
    Helpdesk,
    Ignored,
    PayloadError,
    TicketReopened,
    WebhookEvent,
    scoped,
)
from bot.intake.adapters.bodies import RequestBody
from bot.intake.adapters.bodies.zammad import BODY
from bot.intake.adapters.mapping import closing, customer, full_name, tags
from bot.intake.adapters.payload import Obj, first_moment, load_object

SIGNATURE = "X-Hub-Signature"
UNASSIGNED_OWNER = "1"  # Zammad's system user "-" owns every unassigned ticket


def _name_of(parent: Obj, key: str) -> str | None:
    """``group``/``state``/``organization`` come as a name or as an object with ``name``."""
    value = parent.raw(key)
    if isinstance(value, dict):
        nested = parent.obj(key)
        return nested.text("name") if nested else None
    return parent.text(key)


@dataclass(frozen=True, slots=True)
class ZammadAdapter(Helpdesk):
    """Zammad trigger webhooks, signed with the webhook's HMAC-SHA1 signature token."""

    name: ClassVar[str] = "zammad"
    enabled_by: ClassVar[str] = "zammad_secret"
    summary: ClassVar[str] = "Zammad: trigger webhook (X-Hub-Signature sha1)"
    body: ClassVar[RequestBody] = BODY

    def precheck(self, *, headers: Mapping[str, str], now: datetime) -> None:
        """The signature header is there (what it signs needs the body)."""
        signatures.require_header(headers, SIGNATURE)

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Check ``sha1=<hex>`` over the raw body."""
        given = signatures.require_header(headers, SIGNATURE)
        signatures.check_hex(
            given, secret=self.secret, message=body, algorithm="sha1", what=SIGNATURE
        )

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """State ``closed`` is a closing, ``new`` a creation; other live states a reopening."""
        ticket = load_object(body).require_obj("ticket")
        ticket_id = ticket.id("number") or ticket.require_id("id")
        state = (_name_of(ticket, "state") or "").lower()
        if not state:
            raise PayloadError("missing field ticket.state")
        if state == "new":
            return Ignored("ticket created")
        if state in {"merged", "removed"}:
            return Ignored(f"ticket {state}")
        if state != "closed":
            return TicketReopened(scoped(self.name, ticket_id))
        return closing(
            self.name,
            ticket_id,
            closed_at=first_moment(ticket.raw("last_close_at"), ticket.raw("updated_at"))
            or self.clock(),
            who=self._customer(ticket),
            agent=self._owner(ticket),
            team=_name_of(ticket, "group"),
            channel=ticket.text("create_article_type"),
            tag_list=tags(ticket.raw("tags")),
        )

    def _customer(self, ticket: Obj) -> CustomerInfo:
        person = ticket.obj("customer")
        raw_id = (person.id("id") if person else None) or ticket.id("customer_id")
        company = _name_of(ticket, "organization") or (
            person.text("organization") if person else None
        )
        return customer(
            self.name,
            raw_id,
            field="ticket.customer_id",
            name=full_name(person.text("firstname"), person.text("lastname")) if person else None,
            phone=(person.text("mobile", limit=None) or person.text("phone", limit=None))
            if person
            else None,
            company=company,
        )

    def _owner(self, ticket: Obj) -> str | None:
        owner = ticket.obj("owner")
        if (
            owner is None
            or (owner.label_id("id") or ticket.label_id("owner_id")) == UNASSIGNED_OWNER
        ):
            return None
        name = full_name(owner.text("firstname"), owner.text("lastname"))
        return None if name in (None, "-") else name
