"""Queries the bot needs, in one place, each taking the caller's session (keyword-only)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.survey import SurveyStatus
from storage.models import Customer, Survey, SurveyRating, TelegramUser, Ticket
from storage.tables import table_of
from storage.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class SurveyContext:
    """A survey with the ticket and customer facts its messages and alerts show."""

    survey: Survey
    ticket: Ticket
    customer: Customer
    client: TelegramUser | None = None  # the client's own choices (language, opt-out)

    @property
    def language(self) -> str | None:
        """The client's /language choice first, then what the helpdesk says."""
        chosen = self.client.language if self.client else None
        return chosen or self.customer.language

    @property
    def opted_out(self) -> bool:
        """Whether the client said /stop."""
        return self.client is not None and self.client.opted_out_at is not None


async def load_context(session: AsyncSession, *, survey_id: int) -> SurveyContext | None:
    """A survey with its ticket, customer and the client's own choices; None if unknown."""
    found = await session.exec(
        select(Survey, Ticket, Customer, TelegramUser)
        .join(Ticket, col(Ticket.id) == Survey.ticket_id)
        .join(Customer, col(Customer.id) == Survey.customer_id)
        .outerjoin(TelegramUser, col(TelegramUser.id) == Customer.telegram_user_id)
        .where(Survey.id == survey_id)
    )
    row = found.first()
    return None if row is None else SurveyContext(*row)


def _claim(session: AsyncSession, query: Any, *tables: Any) -> Any:
    """``query``'s rows of ``tables`` locked for this transaction, skipping rows others hold.

    Sweeps run at once (the scheduled one, the one an intake kicks, other instances) beside
    intakes that lock customers: a sweep that waited for a row while holding others deadlocked
    with them. Claimed with ``FOR UPDATE SKIP LOCKED`` (as the outbox is), a sweep never waits;
    concurrent sweeps split the work, and what another transaction holds is left for the next
    sweep. SQLite has a single writer and no row locks: there the query is unchanged.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=tables or None)
    return query


async def due_survey_ids(
    session: AsyncSession, *, now: datetime, limit: int, customer_id: int | None = None
) -> list[int]:
    """Claim pending surveys whose time has come and whose client has a reachable chat.

    The survey and customer rows stay locked until the caller's transaction ends (on
    PostgreSQL), in a total order (due time, then id), so queueing them waits for no one.
    """
    query = (
        select(Survey.id)
        .join(Customer, col(Customer.id) == Survey.customer_id)
        .where(Survey.status == SurveyStatus.PENDING)
        .where(col(Survey.due_at) <= now)
        .where(col(Customer.chat_id).is_not(None))
        .where(col(Customer.unreachable).is_(False))
        .order_by(col(Survey.due_at), col(Survey.id))
        .limit(limit)
    )
    if customer_id is not None:
        query = query.where(Survey.customer_id == customer_id)
    claimed = _claim(session, query, Survey, Customer)
    return [survey_id for survey_id in (await session.exec(claimed)).all() if survey_id is not None]


async def change_status(
    session: AsyncSession,
    *,
    survey_id: int,
    expected: SurveyStatus | Collection[SurveyStatus],
    values: dict[str, object],
) -> bool:
    """Move a survey on only if it is still where the caller saw it (compare-and-set)."""
    allowed = [expected] if isinstance(expected, SurveyStatus) else list(expected)
    result = await session.exec(
        update(Survey)
        .where(col(Survey.id) == survey_id)
        .where(col(Survey.status).in_(allowed))
        .values(**values)
    )
    return bool(result.rowcount)


_SURVEY_TABLE = table_of(Survey)
# A batch of questions Telegram accepted: each survey becomes "sent" if it still waits for it.
_QUESTION_DELIVERED = (
    update(_SURVEY_TABLE)
    .where(_SURVEY_TABLE.c.id == bindparam("b_id"))
    .where(_SURVEY_TABLE.c.status == SurveyStatus.QUEUED)
    .values(
        status=SurveyStatus.SENT,
        sent_at=bindparam("b_now"),
        chat_id=bindparam("b_chat_id"),
        message_id=bindparam("b_message_id"),
    )
)


async def mark_questions_sent(
    session: AsyncSession, *, sent: Sequence[tuple[int, int, int | None]], now: datetime
) -> None:
    """``(survey id, chat id, message id)`` of questions Telegram has: queued -> sent, at once."""
    if not sent:
        return
    connection = await session.connection()
    await connection.execute(
        _QUESTION_DELIVERED,
        [
            {"b_id": survey_id, "b_chat_id": chat_id, "b_message_id": message_id, "b_now": now}
            for survey_id, chat_id, message_id in sent
        ],
    )


async def survey_awaiting_comment(session: AsyncSession, *, chat_id: int) -> int | None:
    """The newest survey in this chat that waits for a comment."""
    found = await session.exec(
        select(Survey.id)
        .where(Survey.chat_id == chat_id)
        .where(Survey.status == SurveyStatus.ANSWERED)
        .order_by(col(Survey.answered_at).desc())
        .limit(1)
    )
    return found.first()


async def comment_asked_at(session: AsyncSession, *, chat_id: int) -> datetime | None:
    """When the newest survey in this chat that waits for a comment asked for it (its score)."""
    found = await session.exec(
        select(Survey.answered_at)
        .where(Survey.chat_id == chat_id)
        .where(Survey.status == SurveyStatus.ANSWERED)
        .order_by(col(Survey.answered_at).desc())
        .limit(1)
    )
    return found.first()


async def link_customer_chat(
    session: AsyncSession, *, customer_id: int, user_id: int, chat_id: int, language: str | None
) -> bool:
    """Tie a customer to the Telegram user who opened their link; refuse another user's claim."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return False
    if customer.telegram_user_id not in (None, user_id):
        return False
    customer.telegram_user_id = user_id
    customer.chat_id = chat_id
    customer.unreachable = False
    if customer.language is None and language:
        customer.language = language
    await session.flush()
    return True


async def mark_customer_unreachable(session: AsyncSession, *, chat_id: int) -> None:
    """The client blocked the bot or the chat is gone: stop trying them."""
    await session.exec(
        update(Customer).where(col(Customer.chat_id) == chat_id).values(unreachable=True)
    )


async def forget_chat(session: AsyncSession, *, chat_id: int) -> None:
    """Telegram does not know the chat (the client never started the bot): wait for /start."""
    await session.exec(
        update(Customer).where(col(Customer.chat_id) == chat_id).values(chat_id=None)
    )


async def link_known_user(session: AsyncSession, *, user_id: int, chat_id: int) -> list[int]:
    """A /start from a Telegram user the helpdesk already named: their chat is open now."""
    found = await session.exec(select(Customer).where(Customer.telegram_user_id == user_id))
    customers = list(found.all())
    for customer in customers:
        customer.chat_id = chat_id
        customer.unreachable = False
    await session.flush()
    return [customer.id for customer in customers if customer.id is not None]


async def any_survey_before(session: AsyncSession, *, when: datetime) -> bool:
    """Whether any survey was created before ``when`` (i.e. this is not a fresh installation)."""
    found = await session.exec(select(Survey.id).where(col(Survey.created_at) < when).limit(1))
    return found.first() is not None


# Surveys that reached (or are on their way to) the client: these count for the throttle.
CONTACTED = (
    SurveyStatus.QUEUED,
    SurveyStatus.SENT,
    SurveyStatus.ANSWERED,
    SurveyStatus.COMPLETED,
    SurveyStatus.EXPIRED,
)


async def claim_survey_slot(
    session: AsyncSession, *, customer_id: int, now: datetime, free_since: datetime | None
) -> bool:
    """Take the customer's "one survey per period" slot: a compare-and-set, race-free.

    ``free_since`` None takes it regardless (the client asked for the survey themselves).
    """
    query = update(Customer).where(col(Customer.id) == customer_id)
    if free_since is not None:
        query = query.where(
            col(Customer.last_surveyed_at).is_(None)
            | (col(Customer.last_surveyed_at) <= free_since)
        )
    result = await session.exec(query.values(last_surveyed_at=now))
    return bool(result.rowcount)


async def recount_last_surveyed(session: AsyncSession, *, customer_id: int) -> None:
    """Give the slot back when a survey did not reach the client after all (cancelled, ...)."""
    contacted = func.coalesce(Survey.sent_at, Survey.queued_at, type_=UTCDateTime())
    latest = (
        select(func.max(contacted))
        .where(Survey.customer_id == customer_id)
        .where(col(Survey.status).in_(CONTACTED))
        .scalar_subquery()
    )
    await session.exec(
        update(Customer).where(col(Customer.id) == customer_id).values(last_surveyed_at=latest)
    )


async def surveys_to_remind(
    session: AsyncSession, *, sent_before: datetime, limit: int
) -> list[int]:
    """Claim surveys still waiting for a score, sent before the cut-off and not reminded yet."""
    query = (
        select(Survey.id)
        .where(Survey.status == SurveyStatus.SENT)
        .where(col(Survey.reminded_at).is_(None))
        .where(col(Survey.sent_at) <= sent_before)
        .order_by(col(Survey.sent_at), col(Survey.id))
        .limit(limit)
    )
    found = await session.exec(_claim(session, query, Survey))
    return [survey_id for survey_id in found.all() if survey_id is not None]


async def expire_surveys(session: AsyncSession, *, cutoff: datetime, now: datetime) -> int:
    """End surveys whose lifetime is over: unanswered ones expire, a waiting comment closes.

    Only rows no one else holds (``_claim``): one a handler or another sweep is changing right
    now is left for the next sweep, instead of a wait that can close a deadlock.
    """
    expired = 0
    for status, column, values in (
        (SurveyStatus.SENT, Survey.sent_at, {"status": SurveyStatus.EXPIRED}),
        (SurveyStatus.QUEUED, Survey.queued_at, {"status": SurveyStatus.EXPIRED}),
        (SurveyStatus.PENDING, Survey.due_at, {"status": SurveyStatus.EXPIRED}),
        (SurveyStatus.ANSWERED, Survey.answered_at, {"status": SurveyStatus.COMPLETED}),
    ):
        over = _claim(
            session,
            select(Survey.id)
            .where(col(Survey.status) == status)
            .where(col(column) < cutoff)
            .order_by(col(Survey.id)),
        )
        result = await session.exec(
            update(Survey)
            .where(col(Survey.id).in_(over))
            .where(col(Survey.status) == status)
            .values(completed_at=now, **values)
        )
        expired += int(result.rowcount or 0)
    return expired


async def customers_with_phone(session: AsyncSession, *, phone: str) -> list[Customer]:
    """Helpdesk customers whose (normalised) phone is this one."""
    found = await session.exec(select(Customer).where(Customer.phone == phone))
    return list(found.all())


async def end_surveys_of_unreachable(session: AsyncSession, *, now: datetime) -> int:
    """Due surveys of a client who blocked the bot end as unreachable instead of waiting."""
    blocked = select(Customer.id).where(col(Customer.unreachable).is_(True))
    due = _claim(
        session,
        select(Survey.id)
        .where(col(Survey.status) == SurveyStatus.PENDING)
        .where(col(Survey.due_at) <= now)
        .where(col(Survey.customer_id).in_(blocked))
        .order_by(col(Survey.id)),
    )
    result = await session.exec(
        update(Survey)
        .where(col(Survey.id).in_(due))
        .where(col(Survey.status) == SurveyStatus.PENDING)
        .values(status=SurveyStatus.UNREACHABLE, completed_at=now)
    )
    return int(result.rowcount or 0)


async def change_score(session: AsyncSession, *, survey_id: int, score: int) -> bool:
    """Replace an answered survey's score while its change window is open."""
    result = await session.exec(
        update(Survey)
        .where(col(Survey.id) == survey_id)
        .where(col(Survey.status).in_([SurveyStatus.ANSWERED, SurveyStatus.COMPLETED]))
        .where(col(Survey.score_locked_at).is_(None))
        .values(score=score)
    )
    return bool(result.rowcount)


async def scores_to_lock(
    session: AsyncSession, *, answered_before: datetime, limit: int
) -> list[int]:
    """Claim answered surveys whose change window is over and whose keyboard is still shown."""
    query = (
        select(Survey.id)
        .where(col(Survey.score_locked_at).is_(None))
        .where(col(Survey.answered_at) <= answered_before)
        .where(col(Survey.message_id).is_not(None))
        .order_by(col(Survey.id))
        .limit(limit)
    )
    found = await session.exec(_claim(session, query, Survey))
    return [survey_id for survey_id in found.all() if survey_id is not None]


async def lock_score(session: AsyncSession, *, survey_id: int, now: datetime) -> None:
    """Make a survey's score final."""
    await session.exec(
        update(Survey).where(col(Survey.id) == survey_id).values(score_locked_at=now)
    )


async def ratings_given(session: AsyncSession, *, survey_id: int) -> int:
    """How many extra questions of a survey have been answered."""
    found = await session.exec(
        select(func.count()).select_from(SurveyRating).where(SurveyRating.survey_id == survey_id)
    )
    return found.one()


async def add_rating(
    session: AsyncSession, *, survey_id: int, question: int, label: str, value: int, now: datetime
) -> bool:
    """Store one extra answer once; a second press on the same question is refused."""
    try:
        async with session.begin_nested():
            rating = SurveyRating(survey_id=survey_id, question=question, label=label, value=value)
            rating.answered_at = now
            session.add(rating)
    except IntegrityError:
        return False
    return True
