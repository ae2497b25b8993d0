"""Freshdesk: an automation rule's "Trigger webhook" action, authenticated by a shared secret.

Freshdesk cannot sign requests, so the rule sends the configured secret in ``X-Npsbot-Secret``
(compared in constant time); there is no timestamp, so replays are caught by the store's
de-duplication instead. Status 4 is Resolved and 5 Closed; ``{{triggered_event}}`` tells a
status change (``{status:{from:2,to:4}}``) from other updates, and Resolved -> Closed is not a
second closing. The body is the one docs/integrations.md gives (optionally wrapped in
``freshdesk_webhook``, as Freshdesk's own examples are).
"""

from __future__ import annotations

import hashlib
import re
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
from bot.intake.adapters.bodies.freshdesk import BODY
from bot.intake.adapters.mapping import closing, customer, tags
from bot.intake.adapters.payload import Obj, first_moment, load_object

SECRET_HEADER = "X-Npsbot-Secret"  # noqa: S105  (a header name, not a secret)
STATUSES = {"2": "open", "3": "pending", "4": "resolved", "5": "closed"}
CLOSING = {"resolved", "closed"}
_EVENT = re.compile(
    r"\{\s*(\w+)\s*:\s*(?:\{\s*from\s*:\s*([^,}]*),\s*to\s*:\s*([^}]*)\}|([^}]*))\s*\}"
)


def _status(value: str) -> str:
    """``resolved`` from ``4``, ``Resolved`` or ``resolved``."""
    value = value.strip().lower()
    return STATUSES.get(value, value)


@dataclass(frozen=True, slots=True)
class FreshdeskAdapter(Helpdesk):
    """Freshdesk automation webhooks with a shared-secret header."""

    name: ClassVar[str] = "freshdesk"
    enabled_by: ClassVar[str] = "freshdesk_secret"
    summary: ClassVar[str] = "Freshdesk: automation rule webhook (shared secret header)"
    body: ClassVar[RequestBody] = BODY

    def precheck(self, *, headers: Mapping[str, str], now: datetime) -> None:
        """The secret header must equal NPSBOT_FRESHDESK_SECRET: all there is to check."""
        given = signatures.require_header(headers, SECRET_HEADER)
        signatures.check_shared_secret(given, secret=self.secret, what=SECRET_HEADER)

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Freshdesk cannot sign: the shared secret says nothing about the body."""
        self.precheck(headers=headers, now=now)

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Read the flat ``ticket_*``/``requester_*`` fields of the recommended body."""
        data = load_object(body)
        fields = data.obj("freshdesk_webhook") or data
        ticket_id = fields.require_id("ticket_id")
        status = _status(fields.require_text("ticket_status"))
        event = _EVENT.fullmatch(fields.text("triggered_event", limit=500) or "")
        what = event[1].lower() if event else None
        if what == "ticket_action" and event and (event[4] or "").strip().lower() == "created":
            return Ignored("ticket created")
        if what is not None and what != "status":
            return Ignored(f"{what} changed, not the status")
        if status not in CLOSING:
            return TicketReopened(scoped(self.name, ticket_id))
        if event and _status(event[2] or "") in CLOSING:
            return Ignored(f"ticket went from {_status(event[2] or '')} to {status}")
        return self._closed(fields, ticket_id)

    def _closed(self, fields: Obj, ticket_id: str) -> WebhookEvent:
        return closing(
            self.name,
            ticket_id,
            closed_at=first_moment(fields.raw("ticket_closed_at"), fields.raw("ticket_updated_at"))
            or self.clock(),
            who=customer(
                self.name,
                fields.id("requester_id") or _email_key(fields.text("requester_email", limit=None)),
                field="requester_id",
                name=fields.text("requester_name"),
                phone=fields.text("requester_mobile", limit=None)
                or fields.text("requester_phone", limit=None),
                language_tag=fields.text("requester_language"),
                company=fields.text("ticket_company_name"),
                telegram_id=fields.raw("requester_telegram_user_id"),
            ),
            agent=fields.text("ticket_agent_name"),
            team=fields.text("ticket_group_name"),
            channel=fields.text("ticket_source"),
            tag_list=tags(fields.raw("ticket_tags")),
        )


def _email_key(email: str | None) -> str | None:
    """A stable pseudonymous id when only an e-mail is sent: its hash, never the address.

    The whole address is hashed, however long (the body cap bounds it): a cut one could be
    another person's.
    """
    if not email:
        return None
    return "email-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
