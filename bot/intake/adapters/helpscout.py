"""Help Scout: the Webhooks app (Manage > Apps > Webhooks), conversation events.

Help Scout signs ``X-HelpScout-Signature: base64(HMAC-SHA1(secret, body))`` and names the event
in ``X-HelpScout-Event``; there is no timestamp, so replays are caught by the store's
de-duplication. ``convo.status`` to ``closed`` is a closing; to ``active`` or ``pending`` a
reopening. The body is the v2 Conversation object (``primaryCustomer``, ``assignee``,
``closedAt``, ``tags`` of ``{"tag": ...}``); the v1 names (``customer``, ``owner``) are read too.

The team is the mailbox. v2 sends only ``mailboxId``, a number, so the operator names mailboxes
in NPSBOT_HELPSCOUT_MAILBOXES; an unnamed one is ``mailbox <id>``, so its answers still group
together. The operator's name wins over v1's ``mailbox.name``, so one mailbox keeps one team
name whichever payload version reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.tickets import CustomerInfo
from bot.intake.adapters import signatures
from bot.intake.adapters.base import (
    Helpdesk,
    Ignored,
    PayloadError,
    TicketReopened,
    WebhookEvent,
    replay_window,
    scoped,
)
from bot.intake.adapters.bodies import RequestBody
from bot.intake.adapters.bodies.helpscout import BODY
from bot.intake.adapters.mapping import closing, customer, full_name, tags
from bot.intake.adapters.payload import Obj, first_moment, load_object

SIGNATURE = "X-HelpScout-Signature"
EVENT = "X-HelpScout-Event"
STATUS_EVENT = "convo.status"


def _person(person: Obj | None) -> str | None:
    """v2 spells names ``first``/``last``, v1 ``firstName``/``lastName``."""
    if person is None:
        return None
    return full_name(
        person.text("first") or person.text("firstName"),
        person.text("last") or person.text("lastName"),
    )


@dataclass(frozen=True, slots=True)
class HelpScoutAdapter(Helpdesk):
    """Help Scout webhooks, signed with the webhook's secret key."""

    name: ClassVar[str] = "helpscout"
    enabled_by: ClassVar[str] = "helpscout_secret"
    summary: ClassVar[str] = "Help Scout: conversation status events (X-HelpScout-Signature)"
    body: ClassVar[RequestBody] = BODY
    mailboxes: Mapping[int, str] = field(default_factory=dict)  # NPSBOT_HELPSCOUT_MAILBOXES

    @classmethod
    def configured(cls, secret: bytes, settings: Settings, clock: Clock) -> HelpScoutAdapter:
        """The one adapter with a setting of its own: the operator's names for mailboxes."""
        return cls(
            secret=secret,
            max_skew=replay_window(settings),
            clock=clock,
            mailboxes=settings.helpscout_mailboxes,
        )

    def precheck(self, *, headers: Mapping[str, str], now: datetime) -> None:
        """The signature header is there (what it signs needs the body)."""
        signatures.require_header(headers, SIGNATURE)

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Check the base64 HMAC-SHA1 of the raw body."""
        given = signatures.require_header(headers, SIGNATURE)
        signatures.check_base64(
            given, secret=self.secret, message=body, algorithm="sha1", what=SIGNATURE
        )

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Only ``convo.status`` changes a survey; other events are acknowledged and ignored."""
        conversation = load_object(body)
        event = signatures.header(headers, EVENT)
        if not event:
            raise PayloadError(f"missing {EVENT} header")
        if event != STATUS_EVENT:
            return Ignored(f"{event[:60]} is not a status change")
        conversation_id = conversation.require_id("id")
        status = conversation.require_text("status").lower()
        if status in {"active", "pending", "open"}:
            return TicketReopened(scoped(self.name, conversation_id))
        if status != "closed":
            return Ignored(f"status {status!r} is neither a closing nor a reopening")
        source = conversation.obj("source")
        return closing(
            self.name,
            conversation_id,
            closed_at=first_moment(conversation.raw("closedAt"), conversation.raw("userUpdatedAt"))
            or self.clock(),
            who=self._customer(conversation),
            agent=_person(conversation.obj("assignee") or conversation.obj("owner")),
            team=self._team(conversation),
            channel=(source.text("type") if source else None) or conversation.text("type"),
            tag_list=tags(conversation.raw("tags")),
        )

    def _team(self, conversation: Obj) -> str | None:
        """The mailbox: the operator's name for its id, v1's ``mailbox.name``, or its id."""
        mailbox = conversation.obj("mailbox")
        # Both are read whichever is used, so a mailbox's fields are checked whatever the
        # operator named (bodies.helpscout can then declare them as plain types).
        named, boxed = (mailbox.text("name"), mailbox.label_id("id")) if mailbox else (None, None)
        number = conversation.label_id("mailboxId") or boxed
        if number and number.isascii() and number.isdigit() and int(number) in self.mailboxes:
            return self.mailboxes[int(number)]
        return named or (f"mailbox {number}" if number else None)

    def _customer(self, conversation: Obj) -> CustomerInfo:
        person = conversation.obj("primaryCustomer") or conversation.obj("customer")
        return customer(
            self.name,
            person.id("id") if person else None,
            field="primaryCustomer.id",
            name=_person(person),
            phone=person.text("phone", limit=None) if person else None,
        )
