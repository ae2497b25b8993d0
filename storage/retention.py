"""Retention: personal data of old surveys is removed, their numbers stay.

``npsbot purge --older-than 2y`` anonymises what belongs to surveys whose ticket closed before
the cut-off, so the NPS history, the digests of past periods and the closed-loop timings read
the same afterwards. A survey is *purgeable* when it closed before the cut-off, has reached a
final state (completed, expired, skipped, cancelled, unreachable) and has no case that is still
open or taken: words still being worked on are held back, and counted in the report.

What happens to each column that can hold personal data, and why a column is kept, is said
once, by its mark on storage.models (``storage.personal``): the statements below are built from
the marks, and tests/storage/test_personal.py holds both this purge and ``/forget`` to them.
What the marks cannot say, because it is about rows rather than columns:

- ``case_message`` (the conversation relayed between manager and client) and
  ``manager_prompt`` (a manager's pending "next message is a reply/note") rows are deleted.
- Outbox rows are blanked, not deleted, once sent or failed and created before the cut-off:
  every delete would scan the whole table for edits pointing at the row (``target_outbox_id``
  has no index). Their chat and message ids are blanked only in private chats (a positive id is
  a person's Telegram id); group and channel ids stay.
- A customer's data goes when every survey of the customer is purgeable (or the customer has
  none and was created before the cut-off); ``unreachable`` is reset with the chat it described.
- A ``telegram_user`` row is deleted (created before the cut-off, and no customer that keeps its
  data has this Telegram id); one that opted out with /stop keeps only the bare opt-out, as
  /forget does, so the opt-out goes on being respected.
- Scores, statuses, times, attribution, the 1-5 ratings, case timings and ``digest`` rows stay:
  the statistics and past digests are made of them.

Work is done in batches of rows found by primary key (``id > last ORDER BY id LIMIT n``), each
batch in its own short transaction, so a database of millions of rows is purged without one
giant transaction, without holding anything but one batch of ids in memory, and while the bot
runs. Every pass looks only for rows that still hold something to remove, so a second run
changes nothing and reports zeros. A dry run finds the same rows and counts them, inside the
same transactions, without writing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Executable,
    Table,
    Text,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from bot.core.cases import CaseStatus
from bot.core.survey import SurveyStatus
from storage.models import (
    AlertCase,
    CaseMessage,
    Customer,
    ManagerPrompt,
    OutboxMessage,
    Survey,
    TelegramUser,
)
from storage.outbox import OutboxStatus
from storage.personal import Path, cleared_values, marks
from storage.tables import table_of

DEFAULT_BATCH_SIZE: Final = 1000

# States a survey never leaves: nothing will write to it again.
FINAL_STATUSES: Final = (
    SurveyStatus.COMPLETED,
    SurveyStatus.EXPIRED,
    SurveyStatus.SKIPPED,
    SurveyStatus.CANCELLED,
    SurveyStatus.UNREACHABLE,
)
_FINISHED_CALLS: Final = (OutboxStatus.SENT, OutboxStatus.FAILED)
_WAITING_CALLS: Final = (OutboxStatus.PENDING, OutboxStatus.SENDING)

_SURVEY: Final[Table] = table_of(Survey)
_CASE: Final[Table] = table_of(AlertCase)
_MESSAGE: Final[Table] = table_of(CaseMessage)
_PROMPT: Final[Table] = table_of(ManagerPrompt)
_OUTBOX: Final[Table] = table_of(OutboxMessage)
_CUSTOMER: Final[Table] = table_of(Customer)
_TELEGRAM_USER: Final[Table] = table_of(TelegramUser)


def _holds(column: ColumnElement[Any], erased: object) -> ColumnElement[bool]:
    """The column still holds something the purge would clear."""
    if erased is None:
        return column.is_not(None)
    if isinstance(erased, bool):
        return column.is_(not erased)
    return column != erased


def _cleared(table: Table) -> dict[str, object]:
    """What the purge writes to ``table``: its personal columns' marks (storage.personal)."""
    return cleared_values(table, Path.PURGE)


def _holds_any(table: Table) -> ColumnElement[bool]:
    return or_(*(_holds(table.c[name], erased) for name, erased in _cleared(table).items()))


@dataclass(slots=True)
class PurgeReport:
    """What a purge changed (or, in a dry run, would change), by kind of row."""

    cutoff: datetime
    dry_run: bool
    surveys: int = 0
    comments: int = 0
    voice_messages: int = 0
    cases: int = 0
    notes: int = 0
    case_messages: int = 0
    manager_prompts: int = 0
    outbox_rows: int = 0
    customers: int = 0
    telegram_users: int = 0
    opt_outs_kept: int = 0
    # Surveys closed before the cut-off that still have something going on: left alone.
    held_back: int = 0

    def lines(self) -> list[str]:
        """The report as lines for a terminal (counts only, never any of the data)."""
        verb = "would be" if self.dry_run else "were"
        return [
            f"cut-off: {self.cutoff.isoformat(timespec='seconds')} "
            f"(surveys closed before it {verb} anonymised)",
            f"surveys anonymised: {self.surveys} "
            f"(comments removed: {self.comments}, voice messages removed: {self.voice_messages})",
            f"cases cleared: {self.cases} (notes removed: {self.notes})",
            f"case messages deleted: {self.case_messages}",
            f"manager prompts deleted: {self.manager_prompts}",
            f"outbox messages blanked: {self.outbox_rows}",
            f"customers anonymised: {self.customers}",
            f"Telegram users deleted: {self.telegram_users} "
            f"(opt-outs kept without their language: {self.opt_outs_kept})",
            f"held back (not finished yet, or a case still open): {self.held_back}",
        ]


def _purgeable(survey: FromClause, cutoff: datetime) -> ColumnElement[bool]:
    """The survey's data may go: closed before the cut-off, final, and no case still open."""
    open_case = exists().where(
        _CASE.c.survey_id == survey.c.id, _CASE.c.status != CaseStatus.RESOLVED
    )
    return and_(survey.c.closed_at < cutoff, survey.c.status.in_(FINAL_STATUSES), ~open_case)


def _purgeable_survey_id(column: Any, cutoff: datetime) -> ColumnElement[bool]:
    """``column`` names a purgeable survey (a correlated look-up by primary key)."""
    inner = _SURVEY.alias("purged_survey")
    return exists().where(inner.c.id == column, _purgeable(inner, cutoff))


def _customer_cleared(customer: FromClause, cutoff: datetime) -> ColumnElement[bool]:
    """The customer has no newer or unfinished survey (and is no fresh, survey-less link)."""
    survey = _SURVEY.alias("customer_survey")
    any_survey = exists().where(survey.c.customer_id == customer.c.id)
    kept_survey = exists().where(
        survey.c.customer_id == customer.c.id, not_(_purgeable(survey, cutoff))
    )
    return and_(~kept_survey, or_(any_survey, customer.c.created_at < cutoff))


@dataclass(frozen=True, slots=True)
class _Pass:
    """One table's share of the purge.

    ``candidates`` is cheap (the table's own columns) and picks the batch; ``eligible`` is the
    whole rule and is checked again by the statements, so a row that changed in between is
    left alone. ``counts`` are (report field, aggregate over the eligible rows of the batch).
    """

    table: Table
    candidates: ColumnElement[bool]
    eligible: ColumnElement[bool]
    counts: Sequence[tuple[str, Any]]
    writes: Callable[[ColumnElement[bool]], Sequence[Executable]]


def _survey_pass(cutoff: datetime) -> _Pass:
    survey = _SURVEY.c
    holds_data = _holds_any(_SURVEY)
    return _Pass(
        table=_SURVEY,
        candidates=and_(survey.closed_at < cutoff, survey.status.in_(FINAL_STATUSES), holds_data),
        eligible=and_(_purgeable(_SURVEY, cutoff), holds_data),
        counts=[
            ("surveys", func.count()),
            ("comments", func.count(survey.comment)),
            ("voice_messages", func.count(survey.voice_file_id)),
        ],
        writes=lambda where: [update(_SURVEY).where(where).values(**_cleared(_SURVEY))],
    )


def _case_pass(cutoff: datetime) -> _Pass:
    alert_case = _CASE.c
    holds_data = _holds_any(_CASE)
    resolved = alert_case.status == CaseStatus.RESOLVED
    return _Pass(
        table=_CASE,
        candidates=and_(resolved, holds_data),
        eligible=and_(resolved, holds_data, _purgeable_survey_id(alert_case.survey_id, cutoff)),
        counts=[("cases", func.count()), ("notes", func.count(alert_case.resolution_note))],
        writes=lambda where: [update(_CASE).where(where).values(**_cleared(_CASE))],
    )


def _case_of_purgeable_survey(case_id: Any, cutoff: datetime) -> ColumnElement[bool]:
    return exists().where(
        _CASE.c.id == case_id,
        _CASE.c.status == CaseStatus.RESOLVED,
        _purgeable_survey_id(_CASE.c.survey_id, cutoff),
    )


def _case_message_pass(cutoff: datetime) -> _Pass:
    return _Pass(
        table=_MESSAGE,
        candidates=true(),
        eligible=_case_of_purgeable_survey(_MESSAGE.c.case_id, cutoff),
        counts=[("case_messages", func.count())],
        writes=lambda where: [delete(_MESSAGE).where(where)],
    )


def _outbox_pass(cutoff: datetime) -> _Pass:
    row = _OUTBOX.c
    waiting_edit = _OUTBOX.alias("waiting_edit")
    holds_data = or_(cast(row.payload, Text) != "{}", row.chat_id > 0)
    candidates = and_(row.status.in_(_FINISHED_CALLS), row.created_at < cutoff, holds_data)
    # An edit still waiting takes its message id from the row it names; an unresolved case's
    # alert is still edited and re-announced.
    still_needed = or_(
        exists().where(
            waiting_edit.c.target_outbox_id == row.id, waiting_edit.c.status.in_(_WAITING_CALLS)
        ),
        exists().where(_CASE.c.outbox_id == row.id, _CASE.c.status != CaseStatus.RESOLVED),
    )
    private = row.chat_id > 0
    # Every SET reads the row as it was, so message_id still sees the old chat_id.
    blanked = {
        name: case((private, erased), else_=row[name])
        if marks(_OUTBOX)[name].private_chats_only
        else erased
        for name, erased in _cleared(_OUTBOX).items()
    }
    return _Pass(
        table=_OUTBOX,
        candidates=candidates,
        eligible=and_(
            candidates,
            ~still_needed,
            or_(row.survey_id.is_(None), _purgeable_survey_id(row.survey_id, cutoff)),
        ),
        counts=[("outbox_rows", func.count())],
        writes=lambda where: [update(_OUTBOX).where(where).values(**blanked)],
    )


def _customer_pass(cutoff: datetime) -> _Pass:
    holds_data = _holds_any(_CUSTOMER)
    return _Pass(
        table=_CUSTOMER,
        candidates=holds_data,
        eligible=and_(holds_data, _customer_cleared(_CUSTOMER, cutoff)),
        counts=[("customers", func.count())],
        writes=lambda where: [update(_CUSTOMER).where(where).values(**_cleared(_CUSTOMER))],
    )


def _telegram_user_pass(cutoff: datetime) -> _Pass:
    user = _TELEGRAM_USER.c
    customer = _CUSTOMER.alias("their_customer")
    # Judged by the rule, not by whether the customer pass has run yet, so a dry run counts the
    # same rows a real run changes.
    kept_by_customer = exists().where(
        customer.c.telegram_user_id == user.id, not_(_customer_cleared(customer, cutoff))
    )
    holds_data = or_(user.opted_out_at.is_(None), user.language.is_not(None))
    candidates = and_(user.created_at < cutoff, holds_data)
    opted_out = user.opted_out_at.is_not(None)
    return _Pass(
        table=_TELEGRAM_USER,
        candidates=candidates,
        eligible=and_(candidates, ~kept_by_customer),
        counts=[
            ("telegram_users", func.count(case((~opted_out, 1)))),
            ("opt_outs_kept", func.count(case((opted_out, 1)))),
        ],
        writes=lambda where: [
            delete(_TELEGRAM_USER).where(where, ~opted_out),
            update(_TELEGRAM_USER).where(where, opted_out).values(language=None),
        ],
    )


@dataclass(slots=True)
class _Runner:
    engine: AsyncEngine
    report: PurgeReport
    batch_size: int

    async def run(self, purge: _Pass) -> None:
        key = purge.table.primary_key.columns.values()[0]
        last: Any = None
        while True:
            async with self.engine.connect() as connection:
                query = select(key).where(purge.candidates).order_by(key).limit(self.batch_size)
                if last is not None:
                    query = query.where(key > last)
                ids = list((await connection.execute(query)).scalars())
            if not ids:
                return
            last = ids[-1]
            async with self.engine.begin() as connection:
                await self._batch(connection, purge, key.in_(ids))

    async def _batch(
        self, connection: AsyncConnection, purge: _Pass, in_batch: ColumnElement[bool]
    ) -> None:
        where = and_(in_batch, purge.eligible)
        aggregates = [aggregate for _name, aggregate in purge.counts]
        counted = (await connection.execute(select(*aggregates).where(where))).one()
        for (name, _aggregate), value in zip(purge.counts, counted, strict=True):
            setattr(self.report, name, getattr(self.report, name) + int(value or 0))
        if not self.report.dry_run:
            for statement in purge.writes(where):
                await connection.execute(statement)


async def _prompts(connection: AsyncConnection, report: PurgeReport) -> None:
    """Manager prompts are one row per manager at most: one statement, no batches."""
    where = or_(
        _PROMPT.c.created_at < report.cutoff,
        _case_of_purgeable_survey(_PROMPT.c.case_id, report.cutoff),
    )
    found = await connection.execute(select(func.count()).where(where))
    report.manager_prompts += int(found.scalar_one())
    if not report.dry_run:
        await connection.execute(delete(_PROMPT).where(where))


async def _held_back(connection: AsyncConnection, cutoff: datetime) -> int:
    """Surveys closed before the cut-off whose data must stay for now."""
    query = select(func.count()).where(
        _SURVEY.c.closed_at < cutoff, not_(_purgeable(_SURVEY, cutoff))
    )
    return int((await connection.execute(query)).scalar_one())


async def purge(
    engine: AsyncEngine,
    *,
    cutoff: datetime,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> PurgeReport:
    """Anonymise everything of surveys closed before ``cutoff``; see the module docstring.

    Safe to run again, and while the bot runs: it only touches rows nothing writes to any more.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = PurgeReport(cutoff=cutoff, dry_run=dry_run)
    runner = _Runner(engine, report, batch_size)
    # Cases and messages before surveys, customers before Telegram users: the order does not
    # change what is eligible, it only keeps each pass's rows together.
    for make in (
        _case_message_pass,
        _case_pass,
        _survey_pass,
        _outbox_pass,
        _customer_pass,
        _telegram_user_pass,
    ):
        await runner.run(make(cutoff))
    async with engine.begin() as connection:
        await _prompts(connection, report)
        report.held_back = await _held_back(connection, cutoff)
    return report
