"""Jira's jira:issue_updated body: the issue, and the changelog that says it moved."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.intake.adapters.bodies.document import RequestBody
from bot.intake.adapters.bodies.fields import (
    TEXT,
    USABLE_ID,
    USABLE_TEXT,
    Body,
    Id,
    NeededText,
    Open,
    Text,
    either,
    has,
    rules,
)


class JiraChange(Body):
    """One changed field."""

    model_config = rules(either(has("fieldId", USABLE_TEXT), "field", TEXT))

    fieldId: Text = Field(default=None, description="status or resolution matter")
    field: Open = Field(default=None, description="Read when fieldId is blank")
    to: Open = Field(
        default=None,
        description="Read, as a text, when the resolution alone changed and no status category",
    )


class JiraChangelog(Body):
    """What the update changed."""

    items: list[JiraChange] | None = None


class JiraCategory(Body):
    """The status category."""

    key: Text = Field(default=None, description="done: a closing; any other: a reopening")


class JiraStatus(Body):
    """The issue's status."""

    statusCategory: JiraCategory | Literal[""] | None = None


class JiraReporter(Body):
    """The customer."""

    model_config = rules(either(has("accountId", USABLE_ID), "key", USABLE_ID, needed=True))

    accountId: Id = None
    key: Open = Field(default=None, description="Read when accountId is missing (Server)")
    displayName: Text = None
    locale: Text = None


class JiraUser(Body):
    """The agent."""

    displayName: Text = None


class JiraProject(Body):
    """The team."""

    name: Text = None


class JiraFields(Body):
    """The issue's fields npsbot reads."""

    status: JiraStatus | Literal[""] | None = None
    resolution: Open = Field(default=None, description="Without a status category: done if set")
    resolutiondate: Open = Field(default=None, description="The closing time (ISO 8601)")
    reporter: JiraReporter
    assignee: JiraUser | Literal[""] | None = None
    project: JiraProject | Literal[""] | None = None
    labels: Open = Field(default=None, description="The tags: the first 50, cut to 100 characters")


class JiraIssue(Body):
    """The issue; its key is the ticket id."""

    model_config = rules(either(has("key", USABLE_ID), "id", USABLE_ID, needed=True))

    key: Id = None
    id: Open = Field(default=None, description="Read when key is missing")
    fields: JiraFields


class JiraEvent(Body):
    """An issue update; a transition to a done status is a closing."""

    webhookEvent: NeededText = Field(description="jira:issue_updated; others are ignored")
    timestamp: Open = Field(default=None, description="Read when resolutiondate is not")
    issue: JiraIssue
    changelog: JiraChangelog | Literal[""] | None = None


# The route's body in /openapi.json (bot.intake.webhooks).
BODY = RequestBody((JiraEvent,))
