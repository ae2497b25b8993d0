"""The Freshdesk body docs/integrations.md gives, as Freshdesk renders it, read by the adapter.

The body is taken from the document itself, so the two cannot drift apart. A placeholder that
renders empty (``{{ticket.requester.id}}`` does in some accounts) must not refuse the closing
while the requester's e-mail is there.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.tickets import TicketClosed
from bot.intake.adapters.base import PayloadError
from bot.intake.adapters.freshdesk import SECRET_HEADER, FreshdeskAdapter

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
EMAIL = "Anna.Petrova@example.com"
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
# What the placeholders render to for one resolved ticket; any other renders empty.
RENDERED = {
    "triggered_event": "{status:{from:2,to:4}}",
    "ticket.id": "1042",
    "ticket.status": "Resolved",
    "ticket.source": "Email",
    "ticket.tags": "billing, vip",
    "ticket.agent.name": "Ivan Petrov",
    "ticket.group.name": "Billing",
    "ticket.company.name": "ACME",
    "ticket.requester.id": "47000123456",
    "ticket.requester.email": EMAIL,
    "ticket.requester.name": "Anna Petrova",
    "ticket.requester.phone": "",
    "ticket.requester.mobile": "+79001234567",
}


def documented_body() -> str:
    """The JSON block of the Freshdesk section, placeholders and all."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## Freshdesk\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```json\n(.*?)\n```", section, flags=re.DOTALL)
    return block


def rendered(**changes: str) -> bytes:
    """The body as Freshdesk sends it, with some placeholders rendered otherwise."""
    values = RENDERED | changes
    return re.sub(
        r"\{\{\s*([\w.]+)\s*\}\}", lambda match: values.get(match[1], ""), documented_body()
    ).encode()


def read(body: bytes) -> object:
    adapter = FreshdeskAdapter(b"fd-secret", clock=lambda: NOW)
    headers = {SECRET_HEADER: "fd-secret", "Content-Type": "application/json"}
    adapter.verify(headers=headers, body=body, now=NOW)
    return adapter.parse(headers=headers, body=body)


def test_the_documented_body_is_json_that_sends_the_id_and_the_email() -> None:
    fields = json.loads(rendered())["freshdesk_webhook"]
    assert fields["requester_id"] == "47000123456"
    assert fields["requester_email"] == EMAIL


def test_with_the_requester_id_the_customer_is_keyed_by_it() -> None:
    event = read(rendered())
    assert isinstance(event, TicketClosed)
    assert event.ticket_id == "freshdesk:1042"
    assert event.customer.helpdesk_id == "freshdesk:47000123456"


def test_an_empty_requester_id_is_keyed_by_the_emails_hash_not_refused() -> None:
    event = read(rendered(**{"ticket.requester.id": ""}))
    assert isinstance(event, TicketClosed)
    digest = hashlib.sha256(EMAIL.lower().encode()).hexdigest()[:32]
    assert event.customer.helpdesk_id == f"freshdesk:email-{digest}"
    assert EMAIL.lower() not in repr(event).lower()  # the address itself is not kept
    assert event.customer.phone == "+79001234567" and event.team == "Billing"


def test_with_neither_the_closing_is_refused_as_the_document_says() -> None:
    assert "missing field requester_id" in DOC.read_text(encoding="utf-8")
    with pytest.raises(PayloadError, match="missing field requester_id"):
        read(rendered(**{"ticket.requester.id": "", "ticket.requester.email": ""}))
