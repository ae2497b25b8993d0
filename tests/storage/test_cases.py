"""Closed-loop cases on the real database: every change is a compare-and-set on the case row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.core.cases import PromptKind
from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from storage import cases, outbox, tickets
from storage.db import SessionFactory
from storage.models import AlertCase, CaseMessage, Survey

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MANAGERS = -100123
CLIENT_CHAT = 5101
OLGA, MAX = 7001, 7002


async def detractor(
    sessions: SessionFactory,
    ticket_id: str,
    *,
    score: int = 3,
    answered_at: datetime = NOW,
    alerted_at: datetime = NOW,
    message_id: int | None = 100,
    customer: str = "c-1",
    chat_id: int | None = CLIENT_CHAT,
    alert_chat: int = MANAGERS,
) -> int:
    """A scored survey with its alert queued (delivered when ``message_id``) and a case."""
    event = TicketClosed(
        ticket_id=ticket_id,
        closed_at=answered_at - HOUR,
        customer=CustomerInfo(helpdesk_id=customer, telegram_user_id=chat_id, name="Anna"),
    )
    async with sessions() as session:
        record = await tickets.record_ticket_closed(session, event=event, due_at=NOW, now=NOW)
    async with sessions() as session:
        survey = await session.get(Survey, record.survey_id)
        assert survey is not None
        survey.status, survey.score, survey.answered_at = SurveyStatus.ANSWERED, score, answered_at
        session.add(survey)
        alert = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=alert_chat,
            payload={"text": "alert"},
            purpose="alert",
            now=alerted_at,
            survey_id=record.survey_id,
            message_id=message_id,
        )
        case = await cases.open_case(
            session, survey_id=record.survey_id, chat_id=alert_chat, outbox_id=alert, now=alerted_at
        )
        await session.commit()
        assert case.id is not None
        return case.id


async def stored(sessions: SessionFactory, case_id: int) -> AlertCase:
    async with sessions() as session:
        case = await session.get(AlertCase, case_id)
    assert case is not None
    return case


async def test_a_case_is_taken_once(sessions: SessionFactory) -> None:
    case_id = await detractor(sessions, "T-1")
    async with sessions() as session:
        assert await cases.take(session, case_id=case_id, user_id=OLGA, name="Olga", now=NOW)
        await session.commit()
    async with sessions() as session:
        later = NOW + HOUR
        assert not await cases.take(session, case_id=case_id, user_id=MAX, name="Max", now=later)
        await session.commit()
    case = await stored(sessions, case_id)
    assert (case.status, case.taken_by, case.taken_by_name, case.taken_at) == (
        "taken",
        OLGA,
        "Olga",
        NOW,
    )


async def test_resolving_an_unclaimed_case_takes_it_too(sessions: SessionFactory) -> None:
    case_id = await detractor(sessions, "T-1")
    async with sessions() as session:
        assert await cases.resolve(session, case_id=case_id, user_id=MAX, name="Max", now=NOW)
        await session.commit()
    case = await stored(sessions, case_id)
    assert case.status == "resolved"
    assert (case.taken_by, case.taken_by_name, case.taken_at) == (MAX, "Max", NOW)
    assert (case.resolved_by, case.resolved_by_name, case.resolved_at) == (MAX, "Max", NOW)


async def test_resolving_a_taken_case_keeps_its_owner_and_is_final(
    sessions: SessionFactory,
) -> None:
    case_id = await detractor(sessions, "T-1")
    later = NOW + HOUR
    async with sessions() as session:
        assert await cases.take(session, case_id=case_id, user_id=OLGA, name="Olga", now=NOW)
        assert await cases.resolve(session, case_id=case_id, user_id=MAX, name="Max", now=later)
        await session.commit()
    async with sessions() as session:
        again = NOW + 2 * HOUR
        assert not await cases.resolve(session, case_id=case_id, user_id=OLGA, name="O", now=again)
        assert not await cases.take(session, case_id=case_id, user_id=OLGA, name="O", now=again)
        await session.commit()
    case = await stored(sessions, case_id)
    assert (case.status, case.taken_by, case.taken_at) == ("resolved", OLGA, NOW)
    assert (case.resolved_by, case.resolved_by_name, case.resolved_at) == (MAX, "Max", later)


async def test_the_checklist_is_final_once_resolved(sessions: SessionFactory) -> None:
    case_id = await detractor(sessions, "T-1")
    async with sessions() as session:
        assert await cases.set_checklist(session, case_id=case_id, steps=["fix"])
        assert await cases.take(session, case_id=case_id, user_id=OLGA, name="Olga", now=NOW)
        assert await cases.set_checklist(session, case_id=case_id, steps=["apologise", "fix"])
        assert await cases.resolve(session, case_id=case_id, user_id=OLGA, name="Olga", now=NOW)
        assert not await cases.set_checklist(session, case_id=case_id, steps=[])
        await session.commit()
    assert (await stored(sessions, case_id)).checklist == ["apologise", "fix"]


async def test_a_prompt_is_answered_once_and_replaced_by_a_newer_one(
    sessions: SessionFactory,
) -> None:
    first = await detractor(sessions, "T-1")
    second = await detractor(sessions, "T-2")
    async with sessions() as session:
        await cases.set_prompt(
            session, user_id=OLGA, case_id=first, kind=PromptKind.REPLY, now=NOW - HOUR
        )
        await cases.set_prompt(session, user_id=OLGA, case_id=second, kind=PromptKind.NOTE, now=NOW)
        await session.commit()
    async with sessions() as session:
        peeked = await cases.peek_prompt(session, user_id=OLGA)
        assert peeked is not None and peeked.case_id == second  # the newer prompt replaced it
        prompt = await cases.take_prompt(session, user_id=OLGA)
        await session.commit()
    assert prompt is not None
    assert (prompt.case_id, prompt.kind, prompt.created_at) == (second, "note", NOW)
    async with sessions() as session:
        assert await cases.take_prompt(session, user_id=OLGA) is None

    async with sessions() as session:
        await cases.set_prompt(
            session, user_id=MAX, case_id=first, kind=PromptKind.REPLY, now=NOW - 2 * HOUR
        )
        await session.commit()
    async with sessions() as session:
        old = await cases.take_prompt(session, user_id=MAX)  # old or not: the caller judges
        await session.commit()
    assert old is not None and old.created_at == NOW - 2 * HOUR
    async with sessions() as session:
        assert await cases.peek_prompt(session, user_id=MAX) is None  # taken, not kept


async def test_recovery_is_answered_only_after_asking_and_only_once(
    sessions: SessionFactory,
) -> None:
    case_id = await detractor(sessions, "T-1")
    later = NOW + HOUR
    async with sessions() as session:
        assert not await cases.answer_recovery(session, case_id=case_id, answer=True, now=NOW)
        assert await cases.ask_recovery(session, case_id=case_id, now=NOW)
        assert not await cases.ask_recovery(session, case_id=case_id, now=later)
        assert await cases.answer_recovery(session, case_id=case_id, answer=True, now=later)
        later2 = later + HOUR
        assert not await cases.answer_recovery(session, case_id=case_id, answer=False, now=later2)
        await session.commit()
    case = await stored(sessions, case_id)
    assert (case.recovery_asked_at, case.recovery_answer, case.recovery_answered_at) == (
        NOW,
        True,
        later,
    )


async def relay(
    sessions: SessionFactory, case_id: int, at: datetime, *, manager: int | None = OLGA
) -> None:
    async with sessions() as session:
        case = await session.get(AlertCase, case_id)
        assert case is not None
        direction = "to_client" if manager else "from_client"
        await cases.add_message(
            session, case=case, direction=direction, text="hi", now=at, manager_id=manager
        )
        await session.commit()


async def test_the_clients_chat_goes_to_the_latest_relayed_case_in_the_window(
    sessions: SessionFactory,
) -> None:
    old = await detractor(sessions, "T-1")
    recent = await detractor(sessions, "T-2")
    silent = await detractor(sessions, "T-3")
    await relay(sessions, old, NOW - 3 * HOUR)
    await relay(sessions, recent, NOW - HOUR)
    await relay(sessions, silent, NOW, manager=None)  # the client wrote; no manager did

    async def conversation(since: datetime, chat_id: int = CLIENT_CHAT) -> int | None:
        async with sessions() as session:
            case = await cases.conversation_for_chat(session, chat_id=chat_id, since=since)
        return None if case is None else case.id

    assert await conversation(NOW - 4 * HOUR) == recent
    assert await conversation(NOW - 2 * HOUR) == recent
    assert await conversation(NOW - HOUR / 2) is None
    assert await conversation(NOW - 4 * HOUR, chat_id=9999) is None

    await relay(sessions, old, NOW + HOUR)  # the old case's manager writes again
    assert await conversation(NOW - 4 * HOUR) == old
    case = await stored(sessions, old)
    assert (case.first_contact_at, case.relay_at, case.relay_manager_id) == (
        NOW - 3 * HOUR,
        NOW + HOUR,
        OLGA,
    )


async def test_unclaimed_lists_open_delivered_detractor_alerts_before_the_cutoff(
    sessions: SessionFactory,
) -> None:
    early = NOW - 5 * HOUR
    due = await detractor(sessions, "T-1", alerted_at=early, message_id=101)
    six = await detractor(sessions, "T-2", score=6, alerted_at=early, message_id=102)
    await detractor(sessions, "T-3", alerted_at=early, message_id=None)  # not delivered yet
    await detractor(sessions, "T-4", score=7, alerted_at=early, message_id=104)  # raised
    await detractor(sessions, "T-5", alerted_at=NOW, message_id=105)  # too recent
    taken = await detractor(sessions, "T-6", alerted_at=early, message_id=106)
    resolved = await detractor(sessions, "T-7", alerted_at=early, message_id=107)
    async with sessions() as session:
        assert await cases.take(session, case_id=taken, user_id=OLGA, name="Olga", now=NOW)
        assert await cases.resolve(session, case_id=resolved, user_id=OLGA, name="O", now=NOW)
        await session.commit()
    async with sessions() as session:
        found = await cases.unclaimed(session, alerted_before=NOW - 4 * HOUR, below_count=3)
    assert [(case.id, message_id) for case, message_id in found] == [(due, 101), (six, 102)]
    # Announced as often as allowed: no longer listed.
    async with sessions() as session:
        case = await session.get(AlertCase, due)
        assert case is not None
        assert await cases.mark_reannounced(session, case=case, now=NOW)
        await session.commit()
    async with sessions() as session:
        found = await cases.unclaimed(session, alerted_before=NOW - 4 * HOUR, below_count=1)
    assert [case.id for case, _ in found] == [six]


async def test_two_instances_count_one_reminder(sessions: SessionFactory) -> None:
    case_id = await detractor(sessions, "T-1")
    async with sessions() as first, sessions() as second:
        seen_first = await first.get(AlertCase, case_id)
        seen_second = await second.get(AlertCase, case_id)
        assert seen_first is not None and seen_second is not None
        assert await cases.mark_reannounced(first, case=seen_first, now=NOW)
        await first.commit()
        assert not await cases.mark_reannounced(second, case=seen_second, now=NOW)
        await second.commit()
    assert (await stored(sessions, case_id)).reannounce_count == 1


async def test_reannouncing_counts_only_while_open(sessions: SessionFactory) -> None:
    case_id = await detractor(sessions, "T-1")
    async with sessions() as session:
        case = await session.get(AlertCase, case_id)
        assert case is not None
        assert await cases.mark_reannounced(session, case=case, now=NOW + HOUR)
        await session.commit()
    async with sessions() as session:
        case = await session.get(AlertCase, case_id)
        assert case is not None and case.reannounce_count == 1
        assert await cases.take(session, case_id=case_id, user_id=OLGA, name="Olga", now=NOW)
        assert not await cases.mark_reannounced(session, case=case, now=NOW + 2 * HOUR)
        await session.commit()
    case = await stored(sessions, case_id)
    assert (case.reannounce_count, case.reannounced_at) == (1, NOW + HOUR)


async def test_reannouncing_keeps_the_first_time_and_the_latest(sessions: SessionFactory) -> None:
    case_id = await detractor(sessions, "T-1")
    for hours in (4, 8):
        async with sessions() as session:
            case = await session.get(AlertCase, case_id)
            assert case is not None
            assert await cases.mark_reannounced(session, case=case, now=NOW + hours * HOUR)
            await session.commit()
    case = await stored(sessions, case_id)
    assert (case.reannounce_count, case.first_reannounced_at, case.reannounced_at) == (
        2,
        NOW + 4 * HOUR,
        NOW + 8 * HOUR,
    )


async def test_forget_removes_the_cases_words_and_keeps_the_case(
    sessions: SessionFactory,
) -> None:
    forgotten = await detractor(sessions, "T-1")
    kept = await detractor(sessions, "T-2", customer="c-2", chat_id=5102)
    await relay(sessions, forgotten, NOW)
    await relay(sessions, forgotten, NOW + HOUR, manager=None)
    await relay(sessions, kept, NOW)
    async with sessions() as session:
        case = await session.get(AlertCase, forgotten)
        assert case is not None
        await cases.forget_conversations(session, survey_ids=[case.survey_id])
        await session.commit()
    async with sessions() as session:
        left = (await session.exec(select(CaseMessage).order_by(col(CaseMessage.id)))).all()
    assert [message.case_id for message in left] == [kept]
    case = await stored(sessions, forgotten)
    assert case.first_contact_at == NOW  # the numbers stay


async def test_history_is_the_customers_last_scores_up_to_this_one(
    sessions: SessionFactory,
) -> None:
    scores = [10, 9, 9, 8, 7, 5, 3]
    case_ids = [
        await detractor(sessions, f"T-{n}", score=score, answered_at=NOW + n * HOUR)
        for n, score in enumerate(scores)
    ]
    await detractor(sessions, "T-later", score=0, answered_at=NOW + 10 * HOUR)
    await detractor(sessions, "T-other", score=1, customer="c-2", chat_id=5102)
    async with sessions() as session:
        last = await cases.load(session, case_id=case_ids[-1])
        third = await cases.load(session, case_id=case_ids[2])
        assert await cases.load(session, case_id=99999) is None
    assert last is not None and third is not None
    assert last.history == [9, 9, 8, 7, 5, 3]  # six at most, oldest first
    assert third.history == [10, 9, 9]
    assert last.case_id == case_ids[-1] and last.survey.survey.score == 3


async def test_open_cases_oldest_first_and_by_chat(sessions: SessionFactory) -> None:
    billing = -100456
    first = await detractor(sessions, "T-1", alerted_at=NOW - 2 * HOUR)
    second = await detractor(sessions, "T-2", alerted_at=NOW - 3 * HOUR, alert_chat=billing)
    third = await detractor(sessions, "T-3", alerted_at=NOW - HOUR)
    done = await detractor(sessions, "T-4", alerted_at=NOW - 4 * HOUR)
    async with sessions() as session:
        assert await cases.take(session, case_id=third, user_id=OLGA, name="Olga", now=NOW)
        assert await cases.resolve(session, case_id=done, user_id=OLGA, name="Olga", now=NOW)
        await session.commit()
    async with sessions() as session:
        assert await cases.open_cases(session) == [second, first, third]
        assert await cases.open_cases(session, chat_ids=[MANAGERS]) == [first, third]
        assert await cases.open_cases(session, chat_ids=[]) == []
