"""Jira Service Management: an admin webhook (System > WebHooks) with a secret.

Jira signs admin webhooks ``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` and sends
no timestamp header, so replays are caught by the store's de-duplication. ``jira:issue_updated``
whose changelog moves ``status`` or ``resolution`` is a closing when the issue's status category
is now ``done`` (or it has a resolution), else a reopening. The closing time is the issue's
``resolutiondate``: a Resolved -> Closed transition keeps it, so it is not a second closing.
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
    PayloadError,
    TicketReopened,
    WebhookEvent,
    scoped,
)
from bot.intake.adapters.bodies import RequestBody
from bot.intake.adapters.bodies.jira import BODY
from bot.intake.adapters.mapping import closing, customer, tags
from bot.intake.adapters.payload import Obj, first_moment, load_object

SIGNATURE = "X-Hub-Signature"
UPDATED = "jira:issue_updated"
WATCHED_FIELDS = {"status", "resolution"}


def _changed_fields(data: Obj) -> dict[str, Obj]:
    """The changelog items for status and resolution, by field name."""
    changelog = data.obj("changelog")
    items = changelog.raw("items") if changelog else None
    if items is None:
        return {}
    if not isinstance(items, list):
        raise PayloadError("changelog.items must be a list")
    found: dict[str, Obj] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PayloadError(f"changelog.items[{index}] must be an object")
        entry = Obj(item, f"changelog.items[{index}]")
        name = (entry.text("fieldId") or entry.text("field") or "").lower()
        if name in WATCHED_FIELDS:
            found[name] = entry
    return found


def _is_done(fields: Obj, changed: dict[str, Obj]) -> bool:
    """Status category ``done`` decides; without it, whether the issue has a resolution."""
    status = fields.obj("status")
    category = status.obj("statusCategory") if status else None
    if category is not None and category.text("key"):
        return category.text("key") == "done"
    if "resolution" in changed and "status" not in changed:
        return changed["resolution"].text("to") is not None
    return fields.raw("resolution") not in (None, "")


@dataclass(frozen=True, slots=True)
class JiraAdapter(Helpdesk):
    """Jira admin webhooks, signed with the webhook's secret."""

    name: ClassVar[str] = "jira"
    enabled_by: ClassVar[str] = "jira_secret"
    summary: ClassVar[str] = "Jira Service Management: issue transitions (X-Hub-Signature sha256)"
    body: ClassVar[RequestBody] = BODY

    def precheck(self, *, headers: Mapping[str, str], now: datetime) -> None:
        """The signature header is there (what it signs needs the body)."""
        signatures.require_header(headers, SIGNATURE)

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Check ``sha256=<hex>`` over the raw body."""
        given = signatures.require_header(headers, SIGNATURE)
        signatures.check_hex(
            given, secret=self.secret, message=body, algorithm="sha256", what=SIGNATURE
        )

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Only transitions matter; creations, comments and other edits are ignored."""
        data = load_object(body)
        event = data.require_text("webhookEvent")
        if event != UPDATED:
            return Ignored(f"{event} is not an issue transition")
        issue = data.require_obj("issue")
        key = issue.id("key") or issue.require_id("id")
        fields = issue.require_obj("fields")
        changed = _changed_fields(data)
        if not changed:
            return Ignored("neither status nor resolution changed")
        if not _is_done(fields, changed):
            return TicketReopened(scoped(self.name, key))
        reporter, assignee, project = (fields.obj(k) for k in ("reporter", "assignee", "project"))
        return closing(
            self.name,
            key,
            closed_at=first_moment(fields.raw("resolutiondate"), data.raw("timestamp"))
            or self.clock(),
            who=customer(
                self.name,
                (reporter.id("accountId") or reporter.id("key")) if reporter else None,
                field="issue.fields.reporter.accountId",
                name=reporter.text("displayName") if reporter else None,
                language_tag=reporter.text("locale") if reporter else None,
            ),
            agent=assignee.text("displayName") if assignee else None,
            team=project.text("name") if project else None,
            tag_list=tags(fields.raw("labels")),
        )
