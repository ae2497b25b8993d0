"""Chatwoot: an account webhook (Settings > Integrations > Webhooks), status changes.

Chatwoot versions that have a webhook secret sign ``X-Chatwoot-Signature: sha256=<hex
HMAC-SHA256(secret, "<X-Chatwoot-Timestamp>.<body>")>`` (checked in Chatwoot's own
``spec/lib/webhooks/trigger_spec.rb``); older ones cannot sign, and then a proxy in front of
npsbot must add ``X-Npsbot-Secret``. ``status: resolved`` is a closing, ``open``/``pending`` a
reopening; the contact is ``meta.sender``. A Telegram inbox's contact carries its Telegram id
(``additional_attributes.social_telegram_user_id``), which needs no deep link at all.
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
    SignatureError,
    TicketReopened,
    WebhookEvent,
    scoped,
)
from bot.intake.adapters.bodies import RequestBody
from bot.intake.adapters.bodies.chatwoot import BODY
from bot.intake.adapters.mapping import closing, customer, tags
from bot.intake.adapters.payload import Obj, first_moment, load_object

SIGNATURE = "X-Chatwoot-Signature"
TIMESTAMP = "X-Chatwoot-Timestamp"
SECRET_HEADER = "X-Npsbot-Secret"  # noqa: S105  (a header name, not a secret)
STATUS_EVENT = "conversation_status_changed"


@dataclass(frozen=True, slots=True)
class ChatwootAdapter(Helpdesk):
    """Chatwoot webhooks: signed where Chatwoot signs, else a shared-secret header."""

    name: ClassVar[str] = "chatwoot"
    enabled_by: ClassVar[str] = "chatwoot_secret"
    summary: ClassVar[str] = "Chatwoot: conversation_status_changed (X-Chatwoot-Signature)"
    body: ClassVar[RequestBody] = BODY

    def precheck(self, *, headers: Mapping[str, str], now: datetime) -> None:
        """A signature with a fresh timestamp, or else the shared secret, checked in full."""
        if not signatures.header(headers, SIGNATURE):
            given = signatures.header(headers, SECRET_HEADER)
            if not given:
                raise SignatureError(f"missing {SIGNATURE} (or {SECRET_HEADER}) header")
            signatures.check_shared_secret(given, secret=self.secret, what=SECRET_HEADER)
            return
        stamp = signatures.require_header(headers, TIMESTAMP)
        sent_at = signatures.parse_timestamp(stamp, what=TIMESTAMP)
        signatures.check_fresh(sent_at, now=now, max_skew=self.max_skew, what=TIMESTAMP)

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """The signature when one is sent (with a fresh timestamp), else the shared secret."""
        self.precheck(headers=headers, now=now)
        signature = signatures.header(headers, SIGNATURE)
        if not signature:
            return  # the shared secret, checked in full by precheck
        stamp = signatures.require_header(headers, TIMESTAMP)
        signatures.check_hex(
            signature,
            secret=self.secret,
            message=stamp.encode() + b"." + body,
            algorithm="sha256",
            what=SIGNATURE,
        )

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Resolved closes; open or pending reopens; snoozed and other events are ignored."""
        conversation = load_object(body)
        event = conversation.require_text("event")
        if event != STATUS_EVENT:
            return Ignored(f"{event} is not a status change")
        conversation_id = conversation.require_id("id")
        status = conversation.require_text("status").lower()
        if status in {"open", "pending"}:
            return TicketReopened(scoped(self.name, conversation_id))
        if status != "resolved":
            return Ignored(f"status {status!r} is neither a closing nor a reopening")
        meta = conversation.require_obj("meta")
        assignee, team = meta.obj("assignee"), meta.obj("team")
        inbox = conversation.text("channel") or ""
        return closing(
            self.name,
            conversation_id,
            closed_at=first_moment(
                conversation.raw("updated_at"), signatures.header(headers, TIMESTAMP)
            )
            or self.clock(),
            who=self._customer(meta.require_obj("sender"), telegram="telegram" in inbox.lower()),
            agent=(assignee.text("available_name") or assignee.text("name")) if assignee else None,
            team=team.text("name") if team else None,
            channel=inbox.removeprefix("Channel::") or None,
            tag_list=tags(conversation.raw("labels")),
        )

    def _customer(self, sender: Obj, *, telegram: bool) -> CustomerInfo:
        extra = sender.obj("additional_attributes")
        return customer(
            self.name,
            sender.id("id"),
            field="meta.sender.id",
            name=sender.text("name"),
            phone=sender.text("phone_number", limit=None),
            language_tag=extra.text("language_code") if extra else None,
            company=extra.text("company_name") if extra else None,
            telegram_id=extra.raw("social_telegram_user_id") if extra and telegram else None,
        )
