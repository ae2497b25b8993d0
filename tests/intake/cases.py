"""Per-helpdesk test cases: the fixture, how that helpdesk signs, and how its events look.

The signing functions follow each helpdesk's documented format independently of
``bot.intake.adapters.signatures``, so a mistake there cannot cancel itself out here.
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.intake.adapters import WebhookAdapter
from bot.intake.adapters.base import Helpdesk
from bot.intake.adapters.chatwoot import ChatwootAdapter
from bot.intake.adapters.freshdesk import FreshdeskAdapter
from bot.intake.adapters.helpscout import HelpScoutAdapter
from bot.intake.adapters.jira import JiraAdapter
from bot.intake.adapters.zammad import ZammadAdapter
from bot.intake.adapters.zendesk import ZendeskAdapter

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 18, 9, 46, tzinfo=UTC)
SENT_AT = datetime(2026, 11, 18, 9, 45, 21, tzinfo=UTC)
SKEW = timedelta(minutes=5)
SECRETS = {
    "zendesk": "dGhpcyBpcyBhIHplbmRlc2sgc2lnbmluZyBzZWNyZXQ=",
    "freshdesk": "fd-shared-secret-5f1c2a",
    "zammad": "zammad-token-91ab",
    "helpscout": "helpscout-secret-40",
    "chatwoot": "chatwoot-webhook-secret",
    "jira": "jira-webhook-secret",
}

Json = dict[str, Any]
Headers = dict[str, str]


def load(name: str) -> Json:
    """A fixture as a fresh dict."""
    data: Json = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def encode(data: Json) -> bytes:
    """Bytes the way a helpdesk might send them (not our own canonical form)."""
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


def _mac(secret: str, message: bytes, algorithm: str) -> bytes:
    return hmac.new(secret.encode(), message, algorithm).digest()


def sign_zendesk(body: bytes, secret: str, sent_at: datetime = SENT_AT) -> Headers:
    stamp = sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = base64.b64encode(_mac(secret, stamp.encode() + body, "sha256")).decode()
    return {
        "X-Zendesk-Webhook-Signature": signature,
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def sign_freshdesk(body: bytes, secret: str, sent_at: datetime = SENT_AT) -> Headers:
    return {"X-Npsbot-Secret": secret}


def sign_zammad(body: bytes, secret: str, sent_at: datetime = SENT_AT) -> Headers:
    return {"X-Hub-Signature": "sha1=" + _mac(secret, body, "sha1").hex()}


def sign_helpscout(body: bytes, secret: str, sent_at: datetime = SENT_AT) -> Headers:
    signature = base64.b64encode(_mac(secret, body, "sha1")).decode()
    return {"X-HelpScout-Signature": signature, "X-HelpScout-Event": "convo.status"}


def sign_chatwoot(body: bytes, secret: str, sent_at: datetime = SENT_AT) -> Headers:
    stamp = str(int(sent_at.timestamp()))
    signature = "sha256=" + _mac(secret, stamp.encode() + b"." + body, "sha256").hex()
    return {"X-Chatwoot-Signature": signature, "X-Chatwoot-Timestamp": stamp}


def sign_jira(body: bytes, secret: str, sent_at: datetime = SENT_AT) -> Headers:
    return {"X-Hub-Signature": "sha256=" + _mac(secret, body, "sha256").hex()}


def _set(data: Json, path: str, value: object) -> Json:
    """A copy of ``data`` with the dotted ``path`` set (or removed when value is ...)."""
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return data


@dataclass(frozen=True)
class Case:
    """One helpdesk as the tests see it."""

    helpdesk: type[Helpdesk]  # the adapter class, as bot.intake.adapters.HELPDESKS lists it
    fixture: str
    sign: Callable[[bytes, str, datetime], Headers]
    ticket_id: str
    customer_id: str
    closed_at: datetime
    reopen: dict[str, object]  # dotted path -> value that turns the closing into a reopening
    ignore: dict[str, object]  # ... into an event that is neither
    required: str  # a dotted path whose absence is a 400 naming it
    extra_headers: Headers = field(default_factory=dict)
    ignore_headers: Headers = field(default_factory=dict)
    signs_time: bool = False

    @property
    def name(self) -> str:
        return self.helpdesk.name

    @property
    def secret(self) -> str:
        return SECRETS[self.name]

    def adapter(self) -> WebhookAdapter:
        return self.helpdesk(self.secret.encode(), SKEW, lambda: NOW)

    def body(self, changes: dict[str, object] | None = None) -> Json:
        data = load(self.fixture)
        for path, value in (changes or {}).items():
            data = _set(data, path, value)
        return data

    def headers(
        self, body: bytes, *, secret: str | None = None, sent_at: datetime = SENT_AT
    ) -> Headers:
        return self.sign(body, secret or self.secret, sent_at)


CASES = [
    Case(
        helpdesk=ZendeskAdapter,
        fixture="zendesk_status_solved.json",
        sign=sign_zendesk,
        ticket_id="zendesk:5158",
        customer_id="zendesk:8447388090495",
        closed_at=datetime(2026, 11, 18, 9, 45, 20, 987654, tzinfo=UTC),
        reopen={"event.current": "OPEN", "event.previous": "SOLVED", "detail.status": "OPEN"},
        ignore={"type": "zen:event-type:ticket.comment_added", "event": {"comment": {}}},
        required="detail.requester_id",
        signs_time=True,
    ),
    Case(
        helpdesk=FreshdeskAdapter,
        fixture="freshdesk_resolved.json",
        sign=sign_freshdesk,
        ticket_id="freshdesk:1042",
        customer_id="freshdesk:47000123456",
        closed_at=datetime(2026, 11, 18, 9, 45, tzinfo=UTC),
        reopen={
            "freshdesk_webhook.ticket_status": "Open",
            "freshdesk_webhook.triggered_event": "{status:{from:4,to:2}}",
        },
        ignore={"freshdesk_webhook.triggered_event": "{ticket_action:created}"},
        required="freshdesk_webhook.ticket_id",
    ),
    Case(
        helpdesk=ZammadAdapter,
        fixture="zammad_closed.json",
        sign=sign_zammad,
        ticket_id="zammad:10081",
        customer_id="zammad:8",
        closed_at=datetime(2026, 11, 18, 9, 45, 1, tzinfo=UTC),
        reopen={"ticket.state": "open"},
        ignore={"ticket.state": "new"},
        required="ticket.state",
    ),
    Case(
        helpdesk=HelpScoutAdapter,
        fixture="helpscout_closed.json",
        sign=sign_helpscout,
        ticket_id="helpscout:291938",
        customer_id="helpscout:238123",
        closed_at=datetime(2026, 11, 18, 9, 45, 20, tzinfo=UTC),
        reopen={"status": "active"},
        ignore={},
        ignore_headers={"X-HelpScout-Event": "convo.agent.reply.created"},
        required="primaryCustomer",
    ),
    Case(
        helpdesk=ChatwootAdapter,
        fixture="chatwoot_resolved.json",
        sign=sign_chatwoot,
        ticket_id="chatwoot:1307",
        customer_id="chatwoot:17",
        closed_at=datetime(2026, 11, 18, 9, 45, 20, 123456, tzinfo=UTC),
        reopen={"status": "open"},
        ignore={"event": "conversation_created", "status": "open"},
        required="meta.sender",
        signs_time=True,
    ),
    Case(
        helpdesk=JiraAdapter,
        fixture="jira_resolved.json",
        sign=sign_jira,
        ticket_id="jira:SUP-42",
        customer_id="jira:qm:7f0e-customer-4d21",
        closed_at=datetime(2026, 11, 18, 9, 45, 20, tzinfo=UTC),
        reopen={
            "issue.fields.status": {"name": "Reopened", "statusCategory": {"key": "new"}},
            "issue.fields.resolution": None,
            "issue.fields.resolutiondate": None,
        },
        ignore={"webhookEvent": "comment_created"},
        required="issue.fields.reporter",
    ),
]
BY_NAME = {case.name: case for case in CASES}
TIMED = [case for case in CASES if case.signs_time]
