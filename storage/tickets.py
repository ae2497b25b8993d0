"""Recording closed and reopened tickets: once per closing, whatever the helpdesk retries."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Executable, Table, and_, bindparam, case, func, insert, select, update
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel import select as sqlmodel_select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from storage import outbox, survey_queries
from storage.models import Customer, Survey, Ticket
from storage.tables import table_of
from storage.upsert import insert_for

# A survey in one of these states has not reached the client: a reopened ticket cancels it.
NOT_YET_SENT = (SurveyStatus.PENDING, SurveyStatus.QUEUED)


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """What the intake answers about a ticket's survey."""

    survey_id: int
    ticket_id: str
    status: SurveyStatus
    created: bool
    skip_reason: str | None = None
    # The client has a chat the bot may write to: a due survey can go out right away.
    reachable: bool = False


@dataclass(frozen=True, slots=True)
class _StoredCustomer:
    id: int
    company: str | None
    reachable: bool


@dataclass(frozen=True, slots=True)
class Closing:
    """One helpdesk closing to record, with what the survey rules decided about it."""

    event: TicketClosed
    due_at: datetime
    phone: str | None = None
    skip_reason: str | None = None


@dataclass(slots=True)
class _KnownSurvey:
    """A survey of a ticket in the batch: stored already, or about to be inserted."""

    ticket_id: int
    closed_at: datetime
    created_at: datetime
    id: int | None = None
    status: SurveyStatus = SurveyStatus.PENDING
    skip_reason: str | None = None


_CUSTOMER: Final[Table] = table_of(Customer)
_TICKET: Final[Table] = table_of(Ticket)
_SURVEY: Final[Table] = table_of(Survey)


async def _run(
    session: AsyncSession, statement: Executable, rows: list[dict[str, Any]] | None = None
) -> Result[Any]:
    """A Core statement on the session's connection and transaction (rows, not ORM objects).

    With ``rows`` it is an executemany: SQLAlchemy compiles the statement once and caches it,
    then sends the rows in batches ("insertmanyvalues"), RETURNING rows in parameter order.
    """
    connection = await session.connection()
    return await connection.execute(statement, rows)


def _dialect(session: AsyncSession) -> str:
    bind = session.bind
    return bind.dialect.name if bind is not None else "sqlite"


@functools.cache
def _customer_upsert(dialect: str) -> Any:
    """Insert or update a customer, returning what the survey needs (built once per dialect).

    Newer helpdesk data wins, but a missing field never erases what we know, and a Telegram
    id, once known, is not replaced by another one the helpdesk sends.
    """
    statement = insert_for(dialect)(_CUSTOMER)
    stored, new = _CUSTOMER.c, statement.excluded
    linked_now = and_(stored.telegram_user_id.is_(None), new.telegram_user_id.is_not(None))
    return statement.on_conflict_do_update(
        index_elements=[stored.helpdesk_id],
        set_={
            "phone": func.coalesce(new.phone, stored.phone),
            "name": func.coalesce(new.name, stored.name),
            "language": func.coalesce(new.language, stored.language),
            "company": func.coalesce(new.company, stored.company),
            "telegram_user_id": func.coalesce(stored.telegram_user_id, new.telegram_user_id),
            "chat_id": case((linked_now, new.telegram_user_id), else_=stored.chat_id),
        },
    ).returning(
        stored.id,
        stored.helpdesk_id,
        stored.company,
        stored.chat_id,
        stored.unreachable,
        sort_by_parameter_order=True,
    )


@functools.cache
def _ticket_lock(dialect: str) -> Any:
    """Insert a ticket, or lock the one there is: the no-op update takes the row lock."""
    statement = insert_for(dialect)(_TICKET)
    ticket = _TICKET.c
    return statement.on_conflict_do_update(
        index_elements=[ticket.external_id],
        set_={"external_id": statement.excluded.external_id},
    ).returning(ticket.id, ticket.external_id, ticket.reopened_at, sort_by_parameter_order=True)


_KNOWN_SURVEYS: Final = (
    select(
        _SURVEY.c.id,
        _SURVEY.c.ticket_id,
        _SURVEY.c.closed_at,
        _SURVEY.c.created_at,
        _SURVEY.c.status,
        _SURVEY.c.skip_reason,
    )
    .where(_SURVEY.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)))
    .order_by(_SURVEY.c.id)
)
_SURVEY_INSERT: Final = insert(_SURVEY).returning(
    _SURVEY.c.id, _SURVEY.c.ticket_id, _SURVEY.c.closed_at, sort_by_parameter_order=True
)

# PostgreSQL: the same statements with the batch as arrays (``unnest``), so each has one text
# whatever the batch size. PostgreSQL prepares it once per connection instead of once per batch
# size (a text per size overflowed the driver's cache of prepared statements, and each miss cost
# a parse, a plan and a round trip), and SQLAlchemy sends it as it is, with no per-row
# compilation ("insertmanyvalues"). Customers and tickets go in one statement: the tickets' CTE
# takes its owners' ids from the customers' one. Rows are taken in key order, customers first,
# as the SQLite path does, so concurrent batches lock rows in one order.
_PG_CUSTOMERS_AND_TICKETS: Final = """
WITH given AS (
    SELECT * FROM unnest(
        $1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::bigint[]
    ) AS g (helpdesk_id, phone, name, language, company, telegram_user_id)
), customers AS (
    INSERT INTO customer AS stored (
        helpdesk_id, phone, name, language, company, telegram_user_id, chat_id, unreachable,
        created_at
    )
    SELECT helpdesk_id, phone, name, language, company, telegram_user_id, telegram_user_id,
        false, $7::timestamptz
    FROM given ORDER BY helpdesk_id
    ON CONFLICT (helpdesk_id) DO UPDATE SET
        phone = coalesce(excluded.phone, stored.phone),
        name = coalesce(excluded.name, stored.name),
        language = coalesce(excluded.language, stored.language),
        company = coalesce(excluded.company, stored.company),
        telegram_user_id = coalesce(stored.telegram_user_id, excluded.telegram_user_id),
        chat_id = CASE
            WHEN stored.telegram_user_id IS NULL AND excluded.telegram_user_id IS NOT NULL
            THEN excluded.telegram_user_id ELSE stored.chat_id END
    RETURNING stored.id, stored.helpdesk_id, stored.company, stored.chat_id, stored.unreachable
), tickets AS (
    INSERT INTO ticket AS locked (external_id, customer_id, created_at)
    SELECT wanted.external_id, customers.id, $7::timestamptz
    FROM unnest($8::varchar[], $9::varchar[]) AS wanted (external_id, owner)
    JOIN customers ON customers.helpdesk_id = wanted.owner
    ORDER BY wanted.external_id
    ON CONFLICT (external_id) DO UPDATE SET external_id = excluded.external_id
    RETURNING locked.id, locked.external_id, locked.reopened_at, locked.xmax = 0 AS inserted
)
SELECT true AS customer, id, helpdesk_id AS key, company, chat_id, unreachable,
    NULL::timestamptz AS reopened_at, NULL::boolean AS inserted
FROM customers
UNION ALL
SELECT false, id, external_id, NULL, NULL, NULL, reopened_at, inserted FROM tickets
"""
_PG_KNOWN_SURVEYS: Final = """
SELECT id, ticket_id, closed_at, created_at, status, skip_reason FROM survey
WHERE ticket_id = ANY($1::integer[]) ORDER BY id
"""
_PG_SURVEY_INSERT: Final = """
INSERT INTO survey (
    ticket_id, customer_id, status, skip_reason, closed_at, agent, team, channel, company, tags,
    due_at, completed_at, created_at
)
SELECT ticket_id, customer_id, status, skip_reason, closed_at, agent, team, channel, company,
    tags::json, due_at, completed_at, $13::timestamptz
FROM unnest(
    $1::integer[], $2::integer[], $3::varchar[], $4::varchar[], $5::timestamptz[],
    $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[], $10::text[],
    $11::timestamptz[], $12::timestamptz[]
) AS given (
    ticket_id, customer_id, status, skip_reason, closed_at, agent, team, channel, company, tags,
    due_at, completed_at
)
RETURNING id, ticket_id, closed_at
"""


def _customer_rows(
    infos: Sequence[tuple[CustomerInfo, str | None]], now: datetime
) -> list[dict[str, Any]]:
    """One row per customer, in key order (so concurrent batches lock rows in one order).

    Within a batch a later closing's data wins field by field, and the first Telegram id given
    is the one kept, exactly as if the closings had been recorded one after another.
    """
    rows: dict[str, dict[str, Any]] = {}
    for info, phone in infos:
        row = rows.setdefault(
            info.helpdesk_id,
            {
                "helpdesk_id": info.helpdesk_id,
                "phone": None,
                "name": None,
                "language": None,
                "company": None,
                "telegram_user_id": None,
                "chat_id": None,
                "unreachable": False,
                "created_at": now,
            },
        )
        for name, value in (
            ("phone", phone),
            ("name", info.name),
            ("language", info.language),
            ("company", info.company),
        ):
            if value is not None:
                row[name] = value
        if row["telegram_user_id"] is None and info.telegram_user_id is not None:
            row["telegram_user_id"] = info.telegram_user_id
            row["chat_id"] = info.telegram_user_id  # a private chat's id is the user's id
    return [rows[key] for key in sorted(rows)]


async def _upsert_customers(
    session: AsyncSession, infos: Sequence[tuple[CustomerInfo, str | None]], now: datetime
) -> dict[str, _StoredCustomer]:
    """Insert or update the customers; returns what is now stored, by helpdesk id."""
    statement = _customer_upsert(_dialect(session))
    result = await _run(session, statement, _customer_rows(infos, now))
    return {
        row.helpdesk_id: _StoredCustomer(
            row.id, row.company, row.chat_id is not None and not row.unreachable
        )
        for row in result
    }


async def upsert_customer(
    session: AsyncSession, info: CustomerInfo, *, phone: str | None, now: datetime
) -> int:
    """Find or create the customer and apply what the helpdesk says now; returns its id."""
    return (await _upsert_customers(session, [(info, phone)], now))[info.helpdesk_id].id


async def _lock_tickets(
    session: AsyncSession, owners: dict[str, int], now: datetime
) -> dict[str, tuple[int, datetime | None]]:
    """Insert the new tickets and lock every one of them; returns external id -> (id, reopened).

    The no-op update on a conflict takes the row lock, so concurrent deliveries of one closing
    (from two instances, too) wait for each other instead of both creating a survey.
    """
    rows = [
        {"external_id": key, "customer_id": owners[key], "created_at": now}
        for key in sorted(owners)
    ]
    result = await _run(session, _ticket_lock(_dialect(session)), rows)
    return {row.external_id: (row.id, row.reopened_at) for row in result}


def _aware(value: datetime) -> datetime:
    """``value``, refused when naive, as ``UTCDateTime`` refuses it on the Core path."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value


async def _pg_customers_and_tickets(
    session: AsyncSession,
    infos: Sequence[tuple[CustomerInfo, str | None]],
    owners: dict[str, str],
    now: datetime,
) -> tuple[dict[str, _StoredCustomer], dict[str, tuple[int, datetime | None]], set[int]]:
    """Customers upserted and tickets inserted or locked, in one PostgreSQL statement.

    ``owners`` maps each ticket to the helpdesk id of its customer. Returns what
    ``_upsert_customers`` and ``_lock_tickets`` return, and the ids of the tickets this
    statement inserted: they have no survey yet, so ``_record`` asks only about the others
    (a closing is usually a ticket's first). ``xmax = 0`` is PostgreSQL's mark of a row this
    statement inserted; one its ``DO UPDATE`` locked carries this transaction's id.
    """
    rows = _customer_rows(infos, now)
    keys = sorted(owners)
    parameters = (
        [row["helpdesk_id"] for row in rows],
        [row["phone"] for row in rows],
        [row["name"] for row in rows],
        [row["language"] for row in rows],
        [row["company"] for row in rows],
        [row["telegram_user_id"] for row in rows],
        _aware(now),
        keys,
        [owners[key] for key in keys],
    )
    connection = await session.connection()
    result = await connection.exec_driver_sql(_PG_CUSTOMERS_AND_TICKETS, parameters)
    customers: dict[str, _StoredCustomer] = {}
    locked: dict[str, tuple[int, datetime | None]] = {}
    inserted: set[int] = set()
    for row in result:
        if row.customer:
            reachable = row.chat_id is not None and not row.unreachable
            customers[row.key] = _StoredCustomer(row.id, row.company, reachable)
        else:
            locked[row.key] = (row.id, row.reopened_at)
            if row.inserted:
                inserted.add(row.id)
    return customers, locked, inserted


async def _known_surveys(
    session: AsyncSession, ticket_ids: Collection[int]
) -> dict[int, list[_KnownSurvey]]:
    connection = await session.connection()
    if _dialect(session) == "postgresql":
        result = await connection.exec_driver_sql(_PG_KNOWN_SURVEYS, (list(ticket_ids),))
    else:
        result = await connection.execute(_KNOWN_SURVEYS, {"ticket_ids": list(ticket_ids)})
    known: dict[int, list[_KnownSurvey]] = {ticket_id: [] for ticket_id in ticket_ids}
    for row in result:
        known[row.ticket_id].append(
            _KnownSurvey(
                ticket_id=row.ticket_id,
                closed_at=row.closed_at,
                created_at=row.created_at,
                id=row.id,
                status=SurveyStatus(row.status),
                skip_reason=row.skip_reason,
            )
        )
    return known


def _this_closing(
    surveys: list[_KnownSurvey], closed_at: datetime, reopened_at: datetime | None
) -> _KnownSurvey | None:
    """The survey this closing already has, if any.

    A retried webhook carries the same closing time. Otherwise the latest survey belongs to
    the current closing unless the ticket was reopened after it was made: a second event of one
    closing (Solved, then Closed) finds it, and only a closing after a reopening is new.
    """
    for survey in surveys:
        if survey.closed_at == closed_at:
            return survey
    if not surveys:
        return None
    latest = surveys[-1]
    if reopened_at is not None and reopened_at > latest.created_at:
        return None
    return latest


def _survey_row(
    closing: Closing, ticket_id: int, customer: _StoredCustomer, now: datetime
) -> dict[str, Any]:
    event = closing.event
    status = SurveyStatus.SKIPPED if closing.skip_reason else SurveyStatus.PENDING
    return {
        "ticket_id": ticket_id,
        "customer_id": customer.id,
        "status": status,
        "skip_reason": closing.skip_reason,
        "closed_at": event.closed_at,
        "agent": event.agent,
        "team": event.team,
        "channel": event.channel,
        "company": event.customer.company or customer.company,
        "tags": list(event.tags),
        "due_at": closing.due_at,
        "completed_at": now if closing.skip_reason else None,
        "created_at": now,
    }


_SURVEY_COLUMNS: Final = (
    "ticket_id",
    "customer_id",
    "status",
    "skip_reason",
    "closed_at",
    "agent",
    "team",
    "channel",
    "company",
)


async def _pg_insert_surveys(
    session: AsyncSession, rows: list[dict[str, Any]], now: datetime
) -> Result[Any]:
    """The new surveys in one PostgreSQL statement; returns (id, ticket_id, closed_at) rows."""
    for row in rows:
        _aware(row["closed_at"])
        _aware(row["due_at"])
    parameters = (
        *([row[name] for row in rows] for name in _SURVEY_COLUMNS),
        [json.dumps(row["tags"]) for row in rows],
        [row["due_at"] for row in rows],
        [row["completed_at"] for row in rows],
        _aware(now),
    )
    connection = await session.connection()
    return await connection.exec_driver_sql(_PG_SURVEY_INSERT, parameters)


async def _record(
    session: AsyncSession, closings: Sequence[Closing], now: datetime
) -> list[SurveyRecord]:
    infos = [(closing.event.customer, closing.phone) for closing in closings]
    owners: dict[str, str] = {}
    for closing in closings:  # a ticket belongs to the customer of its first closing
        owners.setdefault(closing.event.ticket_id, closing.event.customer.helpdesk_id)
    postgresql = _dialect(session) == "postgresql"
    new_tickets: set[int] = set()
    if postgresql:
        customers, tickets, new_tickets = await _pg_customers_and_tickets(
            session, infos, owners, now
        )
    else:
        customers = await _upsert_customers(session, infos, now)
        tickets = await _lock_tickets(
            session, {key: customers[owner].id for key, owner in owners.items()}, now
        )
    # A ticket inserted just now has no survey: a batch of first closings skips the query.
    stored = [ticket_id for ticket_id, _ in tickets.values() if ticket_id not in new_tickets]
    known = await _known_surveys(session, stored) if stored else {}
    known |= {ticket_id: [] for ticket_id in new_tickets}
    answers: list[tuple[_KnownSurvey, bool]] = []
    new_rows: list[dict[str, Any]] = []
    for closing in closings:
        ticket_id, reopened_at = tickets[closing.event.ticket_id]
        surveys = known[ticket_id]
        existing = _this_closing(surveys, closing.event.closed_at, reopened_at)
        if existing is not None:
            answers.append((existing, False))
            continue
        row = _survey_row(closing, ticket_id, customers[closing.event.customer.helpdesk_id], now)
        fresh = _KnownSurvey(
            ticket_id=ticket_id,
            closed_at=closing.event.closed_at,
            created_at=now,
            status=row["status"],
            skip_reason=closing.skip_reason,
        )
        surveys.append(fresh)  # a later event of this closing in the batch finds it
        new_rows.append(row)
        answers.append((fresh, True))
    if new_rows:
        inserted = await (
            _pg_insert_surveys(session, new_rows, now)
            if postgresql
            else _run(session, _SURVEY_INSERT, new_rows)
        )
        ids = {(row.ticket_id, row.closed_at): row.id for row in inserted}
        for known_survey, is_new in answers:
            if is_new:
                known_survey.id = ids[(known_survey.ticket_id, known_survey.closed_at)]
    return [
        SurveyRecord(
            survey_id=known_survey.id or 0,
            ticket_id=closing.event.ticket_id,
            status=known_survey.status,
            created=created,
            skip_reason=known_survey.skip_reason,
            reachable=customers[closing.event.customer.helpdesk_id].reachable,
        )
        for closing, (known_survey, created) in zip(closings, answers, strict=True)
    ]


async def record_closings(
    session: AsyncSession, closings: Sequence[Closing], *, now: datetime
) -> list[SurveyRecord]:
    """Store closings and their surveys in one transaction; retries return the first survey.

    One statement per table for the whole batch, whatever its size: the intake groups the
    closings that arrive together, so a burst of webhooks costs a few round trips, not a few
    per webhook. Results are in the order of ``closings``.
    """
    if not closings:
        return []
    for attempt in (1, 2):
        try:
            records = await _record(session, closings, now)
            await session.commit()
        except IntegrityError:  # a concurrent first insert won a race the locks cannot see
            await session.rollback()
            if attempt == 2:
                raise
        else:
            return records
    raise AssertionError("unreachable")  # pragma: no cover


async def record_ticket_closed(
    session: AsyncSession,
    *,
    event: TicketClosed,
    due_at: datetime,
    now: datetime,
    phone: str | None = None,
    skip_reason: str | None = None,
) -> SurveyRecord:
    """Store one closing and its survey once; a retried webhook returns the first survey.

    ``skip_reason`` records a survey that a rule says must not be sent.
    """
    (record,) = await record_closings(
        session, [Closing(event, due_at, phone, skip_reason)], now=now
    )
    return record


async def cancel_unsent(session: AsyncSession, *, ticket_id: str, now: datetime) -> int:
    """The ticket was reopened: surveys that have not reached the client are cancelled."""
    await session.exec(
        update(Ticket).where(col(Ticket.external_id) == ticket_id).values(reopened_at=now)
    )
    unsent = await session.exec(
        sqlmodel_select(Survey.id)
        .join(Ticket, col(Ticket.id) == Survey.ticket_id)
        .where(Ticket.external_id == ticket_id)
        .where(col(Survey.status).in_(NOT_YET_SENT))
    )
    survey_ids = [survey_id for survey_id in unsent.all() if survey_id is not None]
    if not survey_ids:
        await session.commit()
        return 0
    await session.exec(
        update(Survey)
        .where(col(Survey.id).in_(survey_ids))
        .where(col(Survey.status).in_(NOT_YET_SENT))
        .values(status=SurveyStatus.CANCELLED, skip_reason="reopened", completed_at=now)
    )
    await outbox.withdraw(session, survey_ids=survey_ids, reason="ticket reopened")
    customer_id = (
        await session.exec(
            sqlmodel_select(Ticket.customer_id).where(Ticket.external_id == ticket_id)
        )
    ).one()
    await survey_queries.recount_last_surveyed(
        session, customer_id=customer_id
    )  # the slot is free again
    await session.commit()
    return len(survey_ids)
