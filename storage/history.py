"""Storing imported past answers as surveys that are over: counted, never sent.

An imported answer becomes a ``completed`` survey of its ticket, closed, due, answered and
locked at the moment it was answered, with no chat, no message and no ``sent_at``. So the
digest, ``/nps`` and exports count it; the sweep never picks it up (it looks only at pending,
queued, sent and answered surveys, and at scores with a message to lock); no alert or case is
made; the response rate, which is about surveys this bot sent, is left alone; and so is the
throttle, which counts what this bot sent.

One answer is one (ticket, answered_at): the survey table's unique (ticket, closed_at) holds it,
and an existing survey of the ticket answered at that moment (a live one, say) counts too. So
importing a file again creates nothing. Rows are written a batch at a time, one statement per
table per batch, in one transaction per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.history import ImportedAnswer
from bot.core.survey import SurveyStatus
from storage.models import Customer, Survey, Ticket
from storage.tables import table_of
from storage.upsert import insert_for

# The customer of answers that name none, on a ticket not known yet: it holds no personal data.
ANONYMOUS_CUSTOMER: Final = "import:anonymous"

_CUSTOMER: Final[Table] = table_of(Customer)
_TICKET: Final[Table] = table_of(Ticket)
_SURVEY: Final[Table] = table_of(Survey)


@dataclass(slots=True)
class BatchOutcome:
    """What one batch did; ``duplicates`` are the lines that repeat an earlier line of the file."""

    imported: int = 0
    existing: int = 0
    duplicates: list[int] = field(default_factory=list)


def _customer_upsert(dialect: str) -> Any:
    """Add customers; a stored one keeps what it knows (the file is older than the helpdesk)."""
    statement = insert_for(dialect)(_CUSTOMER)
    stored, new = _CUSTOMER.c, statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[stored.helpdesk_id],
        set_={
            "language": func.coalesce(stored.language, new.language),
            "company": func.coalesce(stored.company, new.company),
        },
    ).returning(stored.id, stored.helpdesk_id, stored.company)


async def _tickets(connection: AsyncConnection, external_ids: Sequence[str]) -> dict[str, Any]:
    found = await connection.execute(
        select(_TICKET.c.id, _TICKET.c.external_id, _TICKET.c.customer_id).where(
            _TICKET.c.external_id.in_(external_ids)
        )
    )
    return {row.external_id: row for row in found}


async def _customers(
    connection: AsyncConnection, wanted: dict[str, dict[str, str | None]], now: datetime
) -> dict[str, Any]:
    """Insert or find the customers by helpdesk id (``wanted``: id -> language and company)."""
    if not wanted:
        return {}
    rows = [
        {"helpdesk_id": helpdesk_id, **known, "unreachable": False, "created_at": now}
        for helpdesk_id, known in sorted(wanted.items())  # one lock order for every batch
    ]
    result = await connection.execute(_customer_upsert(connection.dialect.name), rows)
    return {row.helpdesk_id: row for row in result}


def _survey_row(
    answer: ImportedAnswer, ticket_id: int, customer: Any, now: datetime
) -> dict[str, Any]:
    moment = answer.answered_at
    return {
        "ticket_id": ticket_id,
        "customer_id": customer.id,
        "status": SurveyStatus.COMPLETED,
        "skip_reason": None,
        "closed_at": moment,
        "agent": answer.agent,
        "team": answer.team,
        "channel": answer.channel,
        "company": answer.company or customer.company,
        "tags": [],
        "due_at": moment,
        "answered_at": moment,
        "score": answer.score,
        "score_locked_at": moment,
        "comment": answer.comment,
        "commented_at": moment if answer.comment is not None else None,
        "completed_at": moment,
        "created_at": now,
    }


@dataclass(slots=True)
class _Owners:
    """The batch's tickets, and their customers by helpdesk id (named) and by id (owners)."""

    tickets: dict[str, Any]
    named: dict[str, Any]
    by_id: dict[int, Any]

    def customer_of(self, answer: ImportedAnswer) -> Any:
        if answer.customer_id is not None:
            return self.named[answer.customer_id]
        return self.by_id[self.tickets[answer.ticket_id].customer_id]


async def _owners(
    connection: AsyncConnection, answers: Sequence[tuple[int, ImportedAnswer]], now: datetime
) -> _Owners:
    """Find or add the batch's tickets and customers.

    An answer's customer is the one it names, else its ticket's; a new ticket that names none
    belongs to the anonymous customer.
    """
    ticket_keys = sorted({answer.ticket_id for _line, answer in answers})
    tickets = await _tickets(connection, ticket_keys)
    owner_of: dict[str, str] = {}
    wanted: dict[str, dict[str, str | None]] = {}
    for _line, answer in answers:
        if answer.customer_id is None and answer.ticket_id in tickets:
            continue
        key = answer.customer_id or ANONYMOUS_CUSTOMER
        owner_of.setdefault(answer.ticket_id, key)
        known = wanted.setdefault(key, {"language": None, "company": None})
        if answer.customer_id is not None:  # the first value in the file fills a gap
            known["language"] = known["language"] or answer.language
            known["company"] = known["company"] or answer.company
    named = await _customers(connection, wanted, now)
    new_tickets = [
        {"external_id": key, "customer_id": named[owner_of[key]].id, "created_at": now}
        for key in ticket_keys
        if key not in tickets
    ]
    if new_tickets:
        statement = insert_for(connection.dialect.name)(_TICKET).on_conflict_do_nothing(
            index_elements=[_TICKET.c.external_id]
        )
        await connection.execute(statement, new_tickets)
        tickets = await _tickets(connection, ticket_keys)
    owned = await connection.execute(
        select(_CUSTOMER.c.id, _CUSTOMER.c.helpdesk_id, _CUSTOMER.c.company).where(
            _CUSTOMER.c.id.in_({row.customer_id for row in tickets.values()})
        )
    )
    return _Owners(tickets, named, {row.id: row for row in owned})


async def _taken(
    connection: AsyncConnection, ticket_ids: Sequence[int], now: datetime
) -> dict[tuple[int, datetime], bool]:
    """(ticket, moment) of the tickets' surveys, closing or answer -> made by this import."""
    known = await connection.execute(
        select(
            _SURVEY.c.ticket_id, _SURVEY.c.closed_at, _SURVEY.c.answered_at, _SURVEY.c.created_at
        ).where(_SURVEY.c.ticket_id.in_(ticket_ids))
    )
    taken: dict[tuple[int, datetime], bool] = {}
    for row in known:
        for moment in (row.closed_at, row.answered_at):
            if moment is not None:
                key = (row.ticket_id, moment)
                taken[key] = taken.get(key, False) or row.created_at == now
    return taken


async def store_answers(
    connection: AsyncConnection, answers: Sequence[tuple[int, ImportedAnswer]], *, now: datetime
) -> BatchOutcome:
    """Store a batch of (line, answer) in the connection's transaction.

    ``now`` must be the same for every batch of one import: a survey created at ``now`` was
    created by an earlier line of this very file, which is how a repeated line is told from an
    answer imported before, without remembering the whole file.
    """
    outcome = BatchOutcome()
    if not answers:
        return outcome
    owners = await _owners(connection, answers, now)
    taken = await _taken(connection, [row.id for row in owners.tickets.values()], now)
    new_rows: list[dict[str, Any]] = []
    seen: set[tuple[int, datetime]] = set()
    for line, answer in answers:
        ticket = owners.tickets[answer.ticket_id]
        key = (ticket.id, answer.answered_at)
        if key in seen:
            outcome.duplicates.append(line)
            continue
        seen.add(key)
        if key in taken:
            if taken[key]:
                outcome.duplicates.append(line)
            else:
                outcome.existing += 1
            continue
        new_rows.append(_survey_row(answer, ticket.id, owners.customer_of(answer), now))
    if new_rows:
        statement = (
            insert_for(connection.dialect.name)(_SURVEY)
            .on_conflict_do_nothing(index_elements=[_SURVEY.c.ticket_id, _SURVEY.c.closed_at])
            .returning(_SURVEY.c.id)
        )
        inserted = await connection.execute(statement, new_rows)
        outcome.imported = len(inserted.all())
        # A concurrent import of the same file won the race for the rest: they exist now.
        outcome.existing += len(new_rows) - outcome.imported
    return outcome
