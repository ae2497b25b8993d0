"""Closed-loop cases: one per detractor alert. Every change is a compare-and-set on its row."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.cases import CaseStatus, PromptKind
from storage import survey_queries
from storage.models import AlertCase, CaseMessage, Customer, ManagerPrompt, OutboxMessage, Survey
from storage.survey_queries import SurveyContext
from storage.tables import table_of

HISTORY_LENGTH = 6  # scores shown on an alert, this one included
_CASES = table_of(AlertCase)
_OPEN_CASE = insert(_CASES).returning(_CASES.c.id)
_LINK_ALERT = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("b_id"))
    .values(outbox_id=bindparam("b_outbox_id"))
)


@dataclass(frozen=True, slots=True)
class CaseContext:
    """A case with its survey, ticket and customer, and the client's earlier scores."""

    case: AlertCase
    survey: SurveyContext
    history: list[int]

    @property
    def case_id(self) -> int:
        """The case's id (loaded rows always have one)."""
        assert self.case.id is not None  # noqa: S101
        return self.case.id


async def open_case(
    session: AsyncSession,
    *,
    survey_id: int,
    chat_id: int,
    now: datetime,
    outbox_id: int | None = None,
) -> AlertCase:
    """Record a detractor's case, open and unclaimed (``outbox_id``: its alert, once queued).

    A Core INSERT ... RETURNING, not an ORM add and flush: the flush also wrote whatever else
    the answer's session had pending, a statement of its own each time. The case returned is
    not in the session: ``link_alert`` records its alert.
    """
    case = AlertCase(survey_id=survey_id, chat_id=chat_id, outbox_id=outbox_id, created_at=now)
    connection = await session.connection()
    values = {column.name: getattr(case, column.name) for column in _CASES.columns}
    del values["id"]  # the model's defaults (status, checklist, counts) as the ORM wrote them
    inserted = await connection.execute(_OPEN_CASE, values)
    case.id = int(inserted.scalar_one())
    return case


async def link_alert(session: AsyncSession, *, case: AlertCase, outbox_id: int) -> None:
    """The case's alert message is this outbox row."""
    connection = await session.connection()
    await connection.execute(_LINK_ALERT, {"b_id": case.id, "b_outbox_id": outbox_id})
    case.outbox_id = outbox_id


async def case_of_survey(session: AsyncSession, *, survey_id: int) -> AlertCase | None:
    """The survey's case, if its client was a detractor at some point."""
    return (await session.exec(select(AlertCase).where(AlertCase.survey_id == survey_id))).first()


async def score_history(session: AsyncSession, *, customer_id: int, until: Survey) -> list[int]:
    """The customer's last scores up to and including ``until``'s, oldest first."""
    query = (
        select(Survey.score)
        .where(Survey.customer_id == customer_id)
        .where(col(Survey.score).is_not(None))
        .where(col(Survey.answered_at) <= until.answered_at)
        .order_by(col(Survey.answered_at).desc(), col(Survey.id).desc())
        .limit(HISTORY_LENGTH)
    )
    scores = [score for score in (await session.exec(query)).all() if score is not None]
    return list(reversed(scores))


async def load(session: AsyncSession, *, case_id: int) -> CaseContext | None:
    """A case with everything its alert shows; None if there is no such case."""
    # populate_existing: compare-and-set updates bypass the identity map, so reread the row.
    case = await session.get(AlertCase, case_id, populate_existing=True)
    if case is None:
        return None
    context = await survey_queries.load_context(session, survey_id=case.survey_id)
    if context is None:
        return None
    history = await score_history(
        session, customer_id=context.customer.id or 0, until=context.survey
    )
    return CaseContext(case, context, history)


async def _change(
    session: AsyncSession, case_id: int, expected: Collection[CaseStatus], values: dict[str, object]
) -> bool:
    result = await session.exec(
        update(AlertCase)
        .where(col(AlertCase.id) == case_id)
        .where(col(AlertCase.status).in_([status.value for status in expected]))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def take(
    session: AsyncSession, *, case_id: int, user_id: int, name: str, now: datetime
) -> bool:
    """Claim an open case for a manager; False if someone took or resolved it first."""
    return await _change(
        session,
        case_id,
        [CaseStatus.OPEN],
        {"status": CaseStatus.TAKEN, "taken_by": user_id, "taken_by_name": name, "taken_at": now},
    )


async def set_checklist(session: AsyncSession, *, case_id: int, steps: list[str]) -> bool:
    """Store the steps ticked so far; a resolved case's record is final."""
    return await _change(
        session, case_id, [CaseStatus.OPEN, CaseStatus.TAKEN], {"checklist": steps}
    )


async def resolve(
    session: AsyncSession, *, case_id: int, user_id: int, name: str, now: datetime
) -> bool:
    """Close the case; an unclaimed one counts as taken by whoever resolved it."""
    resolved = await _change(
        session,
        case_id,
        [CaseStatus.OPEN, CaseStatus.TAKEN],
        {
            "status": CaseStatus.RESOLVED,
            "resolved_by": user_id,
            "resolved_by_name": name,
            "resolved_at": now,
        },
    )
    if resolved:
        await session.exec(
            update(AlertCase)
            .where(col(AlertCase.id) == case_id)
            .where(col(AlertCase.taken_at).is_(None))
            .values(taken_by=user_id, taken_by_name=name, taken_at=now)
            .execution_options(synchronize_session=False)
        )
    return resolved


async def set_note(session: AsyncSession, *, case_id: int, note: str) -> None:
    """The resolving manager's short note."""
    await session.exec(
        update(AlertCase)
        .where(col(AlertCase.id) == case_id)
        .values(resolution_note=note)
        .execution_options(synchronize_session=False)
    )


async def set_prompt(
    session: AsyncSession, *, user_id: int, case_id: int, kind: PromptKind, now: datetime
) -> None:
    """Make the manager's next private message a reply to the client or the case's note."""
    await session.exec(delete(ManagerPrompt).where(col(ManagerPrompt.user_id) == user_id))
    session.add(ManagerPrompt(user_id=user_id, case_id=case_id, kind=kind, created_at=now))
    await session.flush()


async def take_prompt(session: AsyncSession, *, user_id: int) -> ManagerPrompt | None:
    """The manager's pending prompt, removed so that only one message answers it.

    The caller decides whether it has gone stale (and tells the manager so).
    """
    prompt = await session.get(ManagerPrompt, user_id)
    if prompt is None:
        return None
    await session.delete(prompt)
    await session.flush()
    return prompt


async def peek_prompt(session: AsyncSession, *, user_id: int) -> ManagerPrompt | None:
    """The manager's pending prompt, left in place."""
    return await session.get(ManagerPrompt, user_id)


async def add_message(
    session: AsyncSession,
    *,
    case: AlertCase,
    direction: str,
    text: str,
    now: datetime,
    manager_id: int | None = None,
) -> None:
    """Keep one message of the case's conversation; a manager's marks the first contact."""
    assert case.id is not None  # noqa: S101
    session.add(
        CaseMessage(
            case_id=case.id, direction=direction, manager_id=manager_id, text=text, created_at=now
        )
    )
    if manager_id is not None:
        case.relay_manager_id = manager_id
        case.relay_at = now
        if case.first_contact_at is None:
            case.first_contact_at = now
        session.add(case)
    await session.flush()


async def conversation_for_chat(
    session: AsyncSession, *, chat_id: int, since: datetime
) -> AlertCase | None:
    """The case whose manager last wrote to this client's chat after ``since``, if any."""
    query = (
        select(AlertCase)
        .join(Survey, col(Survey.id) == AlertCase.survey_id)
        .join(Customer, col(Customer.id) == Survey.customer_id)
        .where(Customer.chat_id == chat_id)
        .where(col(AlertCase.relay_manager_id).is_not(None))
        .where(col(AlertCase.relay_at) >= since)
        .order_by(col(AlertCase.relay_at).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def unclaimed(
    session: AsyncSession, *, alerted_before: datetime, below_count: int
) -> list[tuple[AlertCase, int]]:
    """Open cases alerted before the cut-off, announced fewer than ``below_count`` times, whose
    alert is out, with the alert's message id.

    Only delivered alerts qualify: the reminder replies to the alert, so it needs its id.
    """
    query = (
        select(AlertCase, OutboxMessage.message_id)
        .join(OutboxMessage, col(OutboxMessage.id) == AlertCase.outbox_id)
        .join(Survey, col(Survey.id) == AlertCase.survey_id)
        .where(AlertCase.status == CaseStatus.OPEN)
        .where(col(AlertCase.created_at) <= alerted_before)
        .where(col(AlertCase.reannounce_count) < below_count)
        .where(col(OutboxMessage.message_id).is_not(None))
        .where(col(Survey.score) <= 6)  # a score changed upwards is no detractor's case
        .order_by(col(AlertCase.id))
    )
    return [
        (case, message_id) for case, message_id in (await session.exec(query)).all() if message_id
    ]


async def mark_reannounced(session: AsyncSession, *, case: AlertCase, now: datetime) -> bool:
    """Count the reminder, unless a manager took the case or another instance counted it.

    The count read with the case is part of the compare-and-set, so two bot instances sweeping
    at once queue one reminder between them.
    """
    result = await session.exec(
        update(AlertCase)
        .where(col(AlertCase.id) == case.id)
        .where(col(AlertCase.status) == CaseStatus.OPEN)
        .where(col(AlertCase.reannounce_count) == case.reannounce_count)
        .values(
            first_reannounced_at=func.coalesce(AlertCase.first_reannounced_at, now),
            reannounced_at=now,
            reannounce_count=case.reannounce_count + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def open_cases(
    session: AsyncSession, *, chat_ids: Collection[int] | None = None
) -> list[int]:
    """Ids of cases not yet resolved, oldest first (optionally only those routed to chats)."""
    query = (
        select(AlertCase.id)
        .where(col(AlertCase.status).in_([CaseStatus.OPEN, CaseStatus.TAKEN]))
        .order_by(col(AlertCase.created_at))
    )
    if chat_ids is not None:
        query = query.where(col(AlertCase.chat_id).in_(list(chat_ids)))
    return [case_id for case_id in (await session.exec(query)).all() if case_id is not None]


async def ask_recovery(session: AsyncSession, *, case_id: int, now: datetime) -> bool:
    """Mark that "did we make it right?" was asked (once per case)."""
    result = await session.exec(
        update(AlertCase)
        .where(col(AlertCase.id) == case_id)
        .where(col(AlertCase.recovery_asked_at).is_(None))
        .values(recovery_asked_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def answer_recovery(
    session: AsyncSession, *, case_id: int, answer: bool, now: datetime
) -> bool:
    """Record the client's first answer to the recovery question; later presses change nothing."""
    result = await session.exec(
        update(AlertCase)
        .where(col(AlertCase.id) == case_id)
        .where(col(AlertCase.recovery_asked_at).is_not(None))
        .where(col(AlertCase.recovery_answered_at).is_(None))
        .values(recovery_answer=answer, recovery_answered_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def forget_conversations(session: AsyncSession, *, survey_ids: Collection[int]) -> None:
    """/forget: the words exchanged with the client go; the case's numbers stay."""
    cases = select(AlertCase.id).where(col(AlertCase.survey_id).in_(list(survey_ids)))
    await session.exec(delete(CaseMessage).where(col(CaseMessage.case_id).in_(cases)))
