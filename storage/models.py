"""SQLModel tables: the single source of truth for surveys, answers and outbound messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from storage.personal import CLEARED, DELETED, KEPT, REPLACED, personal
from storage.types import UTCDateTime


def _no_items() -> list[str]:
    """An empty list as a field default.

    A Python function rather than the builtin ``list``: pydantic inspects a default factory's
    signature each time a row object is made, and for a builtin that means parsing its text
    signature, which cost more than the rest of making the object (docs/benchmarks.md).
    """
    return []


def _no_fields() -> dict[str, Any]:
    """An empty dict as a field default (see ``_no_items``)."""
    return {}


def _utc(*, nullable: bool = True, index: bool = False, mark: dict[str, Any] | None = None) -> Any:
    """A UTC timestamp column (a fresh Column each call: SQLAlchemy columns belong to one table).

    ``mark`` is ``personal(...)`` for a time that is personal data.
    """
    column = Column(UTCDateTime(), nullable=nullable, index=index, **(mark or {}))
    return Field(default=None, sa_column=column)


# Why a path keeps a personal column (storage.personal): said here only, where the column is.
_PSEUDONYM = (
    "the purge keeps the helpdesk's pseudonymous key, so a retried webhook or a re-imported "
    "file is recognised instead of counted twice; /forget replaces it"
)
_ATTRIBUTION = "the purge keeps what the breakdowns and the statistics are made of"
_UNLINKED = (
    "/forget unlinks the customer instead (its helpdesk id replaced, its chat gone), so the "
    "flag describes no one"
)
_CASE_RECORD = (
    "/forget erases the client's words; the managers' record of the case stays "
    "(docs/managers.md, What is stored)"
)
_OUTBOX_CHAT = (
    "/forget empties the payload and unlinks the survey; the purge blanks a private chat's ids"
)
_ENPS = "npsbot purge ages out the client survey's data; eNPS membership is current"


class Customer(SQLModel, table=True):
    """A helpdesk customer and, once known, their Telegram chat."""

    id: int | None = Field(default=None, primary_key=True)
    helpdesk_id: str = Field(
        max_length=255,
        unique=True,
        index=True,
        sa_column_kwargs=personal(forget=REPLACED, purge=KEPT, why_kept=_PSEUDONYM),
    )
    telegram_user_id: int | None = Field(
        default=None,
        sa_type=BigInteger,
        index=True,
        sa_column_kwargs=personal(forget=CLEARED, purge=CLEARED),
    )
    chat_id: int | None = Field(
        default=None, sa_type=BigInteger, sa_column_kwargs=personal(forget=CLEARED, purge=CLEARED)
    )
    phone: str | None = Field(
        default=None, max_length=64, sa_column_kwargs=personal(forget=CLEARED, purge=CLEARED)
    )
    name: str | None = Field(
        default=None, max_length=255, sa_column_kwargs=personal(forget=CLEARED, purge=CLEARED)
    )
    language: str | None = Field(default=None, max_length=16)
    company: str | None = Field(
        default=None,
        max_length=255,
        sa_column_kwargs=personal(forget=CLEARED, purge=KEPT, why_kept=_ATTRIBUTION),
    )
    unreachable: bool = Field(
        default=False,
        sa_column_kwargs=personal(forget=KEPT, purge=CLEARED, erased=False, why_kept=_UNLINKED),
    )
    # When the last survey was handed to Telegram: the throttle is a compare-and-set on it.
    last_surveyed_at: datetime | None = _utc()
    created_at: datetime = _utc(nullable=False)


class TelegramUser(SQLModel, table=True):
    """What a Telegram user told the bot themselves: their language and whether to survey them.

    Kept apart from Customer because a user may speak to the bot before any helpdesk knows
    them, and their choices outrank whatever a helpdesk sends.
    """

    __tablename__ = "telegram_user"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # The row goes unless it keeps an opt-out, which then stays bare.
    language: str | None = Field(
        default=None, max_length=16, sa_column_kwargs=personal(forget=DELETED, purge=DELETED)
    )
    opted_out_at: datetime | None = _utc()
    created_at: datetime = _utc(nullable=False)


class Ticket(SQLModel, table=True):
    """A helpdesk ticket; each time it is closed it may get a survey of its own."""

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(
        max_length=255,
        unique=True,
        index=True,
        sa_column_kwargs=personal(forget=REPLACED, purge=KEPT, why_kept=_PSEUDONYM),
    )
    # Not indexed: no query looks tickets up by customer (migration 0006).
    customer_id: int = Field(foreign_key="customer.id")
    # A closing after this moment is a new closing; before it, a retry of the last one.
    reopened_at: datetime | None = _utc()
    created_at: datetime = _utc(nullable=False)


class Survey(SQLModel, table=True):
    """One NPS question for one closing of a ticket, and the client's answer to it.

    Attribution (agent, team, channel, company, tags) is copied here at closing time, so a
    later reassignment in the helpdesk never moves the credit.
    """

    # One survey per closing: a retried webhook carries the same closing time.
    __table_args__ = (UniqueConstraint("ticket_id", "closed_at", name="uq_survey_ticket_closing"),)

    # Only the indexes a query uses (migration 0006 says which and why): each one is written
    # by every closing. Look-ups by ticket use the unique key, which starts with ticket_id.
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: str = Field(max_length=16, index=True)
    skip_reason: str | None = Field(default=None, max_length=64)
    closed_at: datetime = _utc(nullable=False)
    agent: str | None = Field(default=None, max_length=255)
    team: str | None = Field(default=None, max_length=255)
    channel: str | None = Field(default=None, max_length=255)
    company: str | None = Field(
        default=None,
        max_length=255,
        sa_column_kwargs=personal(forget=CLEARED, purge=KEPT, why_kept=_ATTRIBUTION),
    )
    tags: list[str] = Field(default_factory=_no_items, sa_column=Column(JSON, nullable=False))
    due_at: datetime = _utc(nullable=False)  # the sweep finds due surveys by their status
    queued_at: datetime | None = _utc()
    sent_at: datetime | None = _utc(index=True)
    reminded_at: datetime | None = _utc()
    chat_id: int | None = Field(
        default=None, sa_type=BigInteger, sa_column_kwargs=personal(forget=CLEARED, purge=CLEARED)
    )
    message_id: int | None = Field(
        default=None, sa_type=BigInteger, sa_column_kwargs=personal(forget=CLEARED, purge=CLEARED)
    )
    score: int | None = Field(default=None)
    answered_at: datetime | None = _utc(index=True)
    # The client may change the score until this is set (the change window closed).
    score_locked_at: datetime | None = _utc()
    comment: str | None = Field(
        default=None, sa_type=Text, sa_column_kwargs=personal(forget=CLEARED, purge=CLEARED)
    )
    # A voice comment: Telegram keeps the audio; the file id lets the bot send it on.
    voice_file_id: str | None = Field(
        default=None, max_length=255, sa_column_kwargs=personal(forget=CLEARED, purge=CLEARED)
    )
    voice_seconds: int | None = Field(
        default=None, sa_column_kwargs=personal(forget=CLEARED, purge=KEPT, why_kept=_ATTRIBUTION)
    )
    commented_at: datetime | None = _utc(
        mark=personal(forget=CLEARED, purge=KEPT, why_kept=_ATTRIBUTION)
    )
    # The comment's theme ids joined by ";" (bot.themes): None until tagged, "" for none. Ids of
    # the operator's taxonomy name what a comment was about, never who wrote it or what it said,
    # so /forget and the purge keep them, as they keep the score.
    themes: str | None = Field(default=None, sa_type=Text)  # an operator's taxonomy has no cap
    completed_at: datetime | None = _utc()
    prompt_outbox_id: int | None = Field(default=None)
    alert_outbox_id: int | None = Field(default=None)
    created_at: datetime = _utc(nullable=False)


class OutboxMessage(SQLModel, table=True):
    """A Telegram Bot API call waiting to be made, or the record that it was made.

    Edits of messages that may not have been delivered yet name the row that sends them
    (``target_outbox_id``); the dispatcher waits for that row and takes its message id.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The claim asks "is there an older waiting call in this chat?" for every candidate.
        Index("ix_outbox_chat_status_id", "chat_id", "status", "id"),
        # The claim walks the waiting calls in the order it takes them, interactive replies
        # first, and stops at its limit: with 10,000 surveys waiting it reads a few rows of
        # this index, not every waiting row (docs/benchmarks.md). Only waiting rows are in it.
        # Partial (``WHERE status = 'pending'``) as migration 0007 creates it; not said here,
        # since a dialect's options (``postgresql_where``) import that dialect with the models,
        # every PostgreSQL driver's module (2 MiB) in a bot on SQLite too. Alembic compares an
        # index by its name and columns, so the models still match the migrated schema.
        Index("ix_outbox_pending_priority_id", "priority", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    method: str = Field(max_length=32)
    chat_id: int = Field(
        sa_type=BigInteger,
        sa_column_kwargs=personal(
            forget=KEPT, purge=CLEARED, erased=0, why_kept=_OUTBOX_CHAT, private_chats_only=True
        ),
    )
    # Alerts, questions, relays and digests quote names, comments and notes.
    payload: dict[str, Any] = Field(
        default_factory=_no_fields,
        sa_column=Column(
            JSON, nullable=False, **personal(forget=CLEARED, purge=CLEARED, erased={})
        ),
    )
    target_outbox_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("outbox.id"), nullable=True)
    )
    message_id: int | None = Field(
        default=None,
        sa_type=BigInteger,
        sa_column_kwargs=personal(
            forget=KEPT, purge=CLEARED, why_kept=_OUTBOX_CHAT, private_chats_only=True
        ),
    )
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = Field(default=0)
    not_before: datetime = _utc(nullable=False, index=True)
    claimed_at: datetime | None = _utc()
    last_error: str | None = Field(default=None, max_length=500)
    purpose: str = Field(max_length=32)
    # 0: a reply to someone's own action, claimed before 1: bulk (storage.outbox.Priority).
    priority: int = Field(
        default=1, sa_column=Column(SmallInteger, nullable=False, server_default=text("1"))
    )
    # Ties the row's chat to a survey's score: /forget unlinks it.
    survey_id: int | None = Field(
        default=None,
        foreign_key="survey.id",
        index=True,
        sa_column_kwargs=personal(forget=CLEARED, purge=KEPT, why_kept=_OUTBOX_CHAT),
    )
    created_at: datetime = _utc(nullable=False)
    sent_at: datetime | None = _utc()


class DigestPost(SQLModel, table=True):
    """Proof that a chat got the digest of a period: the unique key stops a second post."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("chat_id", "period_start", name="uq_digest_chat_period"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    period_start: datetime = _utc(nullable=False)
    period_end: datetime = _utc(nullable=False)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    created_at: datetime = _utc(nullable=False)


class SurveyRating(SQLModel, table=True):
    """An answer to one of the operator's extra 1-5 questions (quality, speed, ...)."""

    __tablename__ = "survey_rating"
    __table_args__ = (UniqueConstraint("survey_id", "question", name="uq_rating_survey_question"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    question: int  # position in NPSBOT_EXTRA_QUESTIONS when asked
    label: str = Field(max_length=255)  # the question as asked, so renaming it keeps history
    value: int
    answered_at: datetime = _utc(nullable=False, index=True)


class AlertCase(SQLModel, table=True):
    """A detractor's alert as a case managers work: taken, answered, resolved, maybe recovered.

    One per alerted survey. Manager names are kept so the alert can show who owns it; they are
    never logged.
    """

    __tablename__ = "alert_case"

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", unique=True, index=True)
    chat_id: int = Field(sa_type=BigInteger)  # the chat the routing chose
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")  # the alert message
    status: str = Field(default="open", max_length=16, index=True)  # open / taken / resolved
    created_at: datetime = _utc(nullable=False, index=True)
    taken_by: int | None = Field(default=None, sa_type=BigInteger)
    taken_by_name: str | None = Field(default=None, max_length=255)
    taken_at: datetime | None = _utc()
    # The first message a manager sent the client through the bot.
    first_contact_at: datetime | None = _utc()
    # The manager the client's answers go back to.
    relay_manager_id: int | None = Field(
        default=None,
        sa_type=BigInteger,
        sa_column_kwargs=personal(forget=KEPT, purge=CLEARED, why_kept=_CASE_RECORD),
    )
    relay_at: datetime | None = _utc()
    resolved_by: int | None = Field(default=None, sa_type=BigInteger)
    resolved_by_name: str | None = Field(default=None, max_length=255)
    resolved_at: datetime | None = _utc()
    resolution_note: str | None = Field(
        default=None,
        sa_type=Text,
        sa_column_kwargs=personal(forget=KEPT, purge=CLEARED, why_kept=_CASE_RECORD),
    )
    # Follow-up steps done, from bot.core.cases.CHECKLIST (acknowledge, apologise, ...).
    checklist: list[str] = Field(default_factory=_no_items, sa_column=Column(JSON, nullable=False))
    # The first re-announcement (the digest counts it by the period's end) and the latest one.
    first_reannounced_at: datetime | None = _utc()
    reannounced_at: datetime | None = _utc()
    reannounce_count: int = Field(default=0)
    recovery_asked_at: datetime | None = _utc()
    recovery_answer: bool | None = Field(default=None)  # "did we make it right?" yes / no
    recovery_answered_at: datetime | None = _utc()


class ManagerPrompt(SQLModel, table=True):
    """What a manager's next message in the bot's private chat is: a reply or a case note."""

    __tablename__ = "manager_prompt"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    case_id: int = Field(foreign_key="alert_case.id")
    kind: str = Field(max_length=16)  # "reply" or "note"
    created_at: datetime = _utc(nullable=False)


class CaseMessage(SQLModel, table=True):
    """One message of a case's conversation between a manager and the client, for the record."""

    __tablename__ = "case_message"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="alert_case.id", index=True)
    direction: str = Field(max_length=16)  # "to_client" or "from_client"
    manager_id: int | None = Field(default=None, sa_type=BigInteger)
    text: str = Field(sa_type=Text, sa_column_kwargs=personal(forget=DELETED, purge=DELETED))
    created_at: datetime = _utc(nullable=False)


# Employee NPS (bot.enps). Who was asked and what was answered live in different tables that
# share only the round: ``enps_invitation`` knows the member and never the score, while
# ``enps_response`` and ``enps_comment`` know the round and never the member or the time, and
# take random ids so that not even their order points back at an invitation.


class EnpsCampaign(SQLModel, table=True):
    """A team surveyed on a schedule with the employee question; its digest goes to one chat."""

    __tablename__ = "enps_campaign"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    company: str = Field(max_length=255)  # "... recommend {company} as a place to work?"
    chat_id: int = Field(sa_type=BigInteger)  # where the round's digest goes
    cron: str = Field(max_length=100)  # in NPSBOT_TIMEZONE
    language: str = Field(max_length=16)
    round_days: float
    remind_after_days: float | None = Field(default=None)
    min_group_size: int
    active: bool = Field(default=True)
    created_at: datetime = _utc(nullable=False)


class EnpsMember(SQLModel, table=True):
    """A Telegram user in a campaign: added by id, or joined by opening the campaign's link."""

    __tablename__ = "enps_member"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id", name="uq_enps_member"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="enps_campaign.id", index=True)
    user_id: int = Field(
        sa_type=BigInteger,
        sa_column_kwargs=personal(forget=DELETED, purge=KEPT, why_kept=_ENPS),
    )
    status: str = Field(max_length=16)  # bot.core.enps.MemberStatus
    joined_at: datetime | None = _utc()
    created_at: datetime = _utc(nullable=False)


class EnpsRound(SQLModel, table=True):
    """One run of a campaign; the unique key makes every instance open it at most once."""

    __tablename__ = "enps_round"
    __table_args__ = (
        UniqueConstraint("campaign_id", "scheduled_for", name="uq_enps_round_schedule"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="enps_campaign.id", index=True)
    scheduled_for: datetime = _utc(nullable=False)
    opened_at: datetime = _utc(nullable=False)
    remind_at: datetime | None = _utc()
    reminded_at: datetime | None = _utc()
    closes_at: datetime = _utc(nullable=False, index=True)
    closed_at: datetime | None = _utc()
    status: str = Field(max_length=16, index=True)  # bot.core.enps.RoundStatus
    digest_outbox_id: int | None = Field(default=None, foreign_key="outbox.id")


class EnpsInvitation(SQLModel, table=True):
    """That a member was asked in a round and whether they answered; never what they answered."""

    __tablename__ = "enps_invitation"
    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_enps_invitation"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="enps_round.id", index=True)
    # /forget gives it minus the invitation's id, so the round's response rate stays.
    user_id: int = Field(
        sa_type=BigInteger,
        sa_column_kwargs=personal(forget=REPLACED, purge=KEPT, why_kept=_ENPS),
    )
    status: str = Field(max_length=16, index=True)  # bot.core.enps.InvitationStatus
    question_outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    prompt_outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    message_id: int | None = Field(default=None, sa_type=BigInteger)


class EnpsResponse(SQLModel, table=True):
    """One score of a round: no member, no time, a random id."""

    __tablename__ = "enps_response"

    id: str = Field(primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="enps_round.id", index=True)
    score: int


class EnpsComment(SQLModel, table=True):
    """One comment of a round, kept apart from the scores too: no member, no score, no time."""

    __tablename__ = "enps_comment"

    id: str = Field(primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="enps_round.id", index=True)
    text: str = Field(sa_type=Text)
