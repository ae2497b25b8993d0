"""Zendesk: event subscriptions (``zen:event-type:ticket.status_changed``) and trigger bodies.

Zendesk signs ``base64(HMAC-SHA256(secret, timestamp + body))`` and sends the timestamp, so a
replayed request is refused after ``max_skew``. Event payloads carry ids only (no names); a
trigger body, written by the admin with placeholders (docs/integrations.md), carries names too.
A solved ticket that Zendesk later closes by itself is not a second closing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.intake.adapters import signatures
from bot.intake.adapters.base import (
    Helpdesk,
    Ignored,
    TicketReopened,
    WebhookEvent,
    scoped,
)
from bot.intake.adapters.bodies import RequestBody
from bot.intake.adapters.bodies.zendesk import BODY
from bot.intake.adapters.mapping import closing, customer, full_name, tags
from bot.intake.adapters.payload import Obj, first_moment, load_object

SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
STATUS_CHANGED = "zen:event-type:ticket.status_changed"
CLOSING = {"solved", "closed"}
REOPENING = {"open", "pending", "hold", "on-hold"}


@dataclass(frozen=True, slots=True)
class ZendeskAdapter(Helpdesk):
    """Zendesk webhooks, signed with the webhook's signing secret."""

    name: ClassVar[str] = "zendesk"
    enabled_by: ClassVar[str] = "zendesk_secret"
    summary: ClassVar[str] = "Zendesk: ticket status events and trigger bodies"
    body: ClassVar[RequestBody] = BODY

    def precheck(self, *, headers: Mapping[str, str], now: datetime) -> None:
        """Both headers present, and the timestamp within ``max_skew`` of now."""
        signatures.require_header(headers, SIGNATURE)
        stamp = signatures.require_header(headers, TIMESTAMP)
        sent_at = signatures.parse_timestamp(stamp, what=TIMESTAMP)
        signatures.check_fresh(sent_at, now=now, max_skew=self.max_skew, what=TIMESTAMP)

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Check the signature over timestamp + raw body, then the timestamp's age."""
        signature = signatures.require_header(headers, SIGNATURE)
        stamp = signatures.require_header(headers, TIMESTAMP)
        signatures.check_base64(
            signature,
            secret=self.secret,
            message=stamp.encode() + body,
            algorithm="sha256",
            what=SIGNATURE,
        )
        self.precheck(headers=headers, now=now)

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """An event subscription body has ``type``; a trigger body has ``ticket``."""
        data = load_object(body)
        fallback = first_moment(signatures.header(headers, TIMESTAMP))
        if data.raw("type") is not None:
            return self._event(data, fallback)
        return self._trigger(data.require_obj("ticket"), fallback)

    def _event(self, data: Obj, fallback: datetime | None) -> WebhookEvent:
        kind = data.require_text("type")
        if kind != STATUS_CHANGED:
            return Ignored(f"{kind} is not a ticket status change")
        detail, change = data.require_obj("detail"), data.require_obj("event")
        ticket_id = detail.require_id("id")
        current = change.require_text("current").lower()
        previous = (change.text("previous") or "").lower()
        if current not in CLOSING:
            return self._not_closing(ticket_id, current)
        if previous in CLOSING:
            return Ignored(f"ticket went from {previous} to {current}: it was closed already")
        via = detail.obj("via")
        return closing(
            self.name,
            ticket_id,
            closed_at=first_moment(data.raw("time")) or fallback or self.clock(),
            who=customer(self.name, detail.id("requester_id"), field="detail.requester_id"),
            agent=detail.label_id("assignee_id"),
            team=detail.label_id("group_id"),
            channel=via.text("channel") if via else None,
            tag_list=tags(detail.raw("tags")),
        )

    def _trigger(self, ticket: Obj, fallback: datetime | None) -> WebhookEvent:
        ticket_id = ticket.require_id("id")
        status = ticket.require_text("status").lower()
        if status not in CLOSING:
            return self._not_closing(ticket_id, status)
        requester = ticket.require_obj("requester")
        who = customer(
            self.name,
            requester.id("id"),
            field="ticket.requester.id",
            name=requester.text("name")
            or full_name(requester.text("first_name"), requester.text("last_name")),
            phone=requester.text("phone", limit=None),
            language_tag=requester.text("locale") or requester.text("language"),
            company=ticket.text("organization") or requester.text("organization"),
            telegram_id=requester.raw("telegram_user_id"),
        )
        return closing(
            self.name,
            ticket_id,
            closed_at=first_moment(ticket.raw("updated_at")) or fallback or self.clock(),
            who=who,
            agent=ticket.text("assignee"),
            team=ticket.text("group"),
            channel=ticket.text("via"),
            tag_list=tags(ticket.raw("tags")),
        )

    def _not_closing(self, ticket_id: str, status: str) -> WebhookEvent:
        if status in REOPENING:
            return TicketReopened(scoped(self.name, ticket_id))
        if status == "new":
            return Ignored("ticket created")
        return Ignored(f"status {status!r} is neither a closing nor a reopening")
