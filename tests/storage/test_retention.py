"""Retention on both backends: every personal column of an old survey goes, the numbers stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import SessionFactory
from storage.models import (
    AlertCase,
    CaseMessage,
    Customer,
    ManagerPrompt,
    OutboxMessage,
    Survey,
    SurveyRating,
    TelegramUser,
    Ticket,
)
from storage.retention import PurgeReport, purge

OLD = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
NEW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2025, 1, 1, tzinfo=UTC)
MANAGERS = -100500
ANNA, BORIS, CLARA, DAN = 5101, 5102, 5103, 5104


async def _customer(session: object, helpdesk_id: str, user_id: int | None, **extra: object) -> int:
    customer = Customer(
        helpdesk_id=helpdesk_id,
        telegram_user_id=user_id,
        chat_id=user_id,
        name=f"Name of {helpdesk_id}",
        phone="+79001234567",
        company="Globex",
        language="ru",
        created_at=OLD,
        **extra,
    )
    session.add(customer)  # type: ignore[attr-defined]
    await session.flush()  # type: ignore[attr-defined]
    assert customer.id is not None
    return customer.id


async def _survey(
    session: object, customer_id: int, ticket: str, when: datetime, **extra: object
) -> Survey:
    row = Ticket(external_id=ticket, customer_id=customer_id, created_at=when)
    session.add(row)  # type: ignore[attr-defined]
    await session.flush()  # type: ignore[attr-defined]
    assert row.id is not None
    fields: dict[str, object] = {
        "status": "completed",
        "closed_at": when,
        "due_at": when,
        "sent_at": when + timedelta(minutes=30),
        "answered_at": when + timedelta(hours=1),
        "score": 3,
        "comment": f"words of {ticket}",
        "commented_at": when + timedelta(hours=1),
        "chat_id": customer_id,
        "message_id": 77,
        "agent": "Ivan",
        "team": "L2",
        "channel": "email",
        "company": "Globex",
        "created_at": when,
        **extra,
    }
    survey = Survey(ticket_id=row.id, customer_id=customer_id, **fields)  # type: ignore[arg-type]
    session.add(survey)  # type: ignore[attr-defined]
    await session.flush()  # type: ignore[attr-defined]
    return survey


def _call(chat_id: int, when: datetime, **extra: object) -> OutboxMessage:
    fields: dict[str, object] = {
        "method": "sendMessage",
        "chat_id": chat_id,
        "payload": {"text": "Anna said: words"},
        "status": "sent",
        "message_id": 9,
        "purpose": "alert",
        "not_before": when,
        "created_at": when,
        **extra,
    }
    return OutboxMessage(**fields)  # type: ignore[arg-type]


async def _populate(sessions: SessionFactory) -> dict[str, int]:
    """Anna: old, resolved case, all purgeable. Boris: old but his case is open. Clara: old
    and new surveys. Dan: old, voice comment, opted out. Plus calls of each kind."""
    async with sessions() as session:
        anna = await _customer(session, "c-anna", ANNA)
        boris = await _customer(session, "c-boris", BORIS)
        clara = await _customer(session, "c-clara", CLARA)
        dan = await _customer(session, "c-dan", DAN, unreachable=True)
        old_anna = await _survey(session, anna, "T-1", OLD)
        old_boris = await _survey(session, boris, "T-2", OLD)
        old_clara = await _survey(session, clara, "T-3", OLD, score=9)
        new_clara = await _survey(session, clara, "T-4", NEW, score=10)
        old_dan = await _survey(
            session, dan, "T-5", OLD, comment=None, voice_file_id="AwACAg", voice_seconds=4
        )
        session.add(
            SurveyRating(survey_id=old_anna.id, question=0, label="Speed", value=2, answered_at=OLD)
        )
        alert = _call(MANAGERS, OLD, survey_id=old_anna.id)
        boris_alert = _call(MANAGERS, OLD, survey_id=old_boris.id)
        question = _call(ANNA, OLD, survey_id=old_anna.id, purpose="survey")
        edited_later = _call(ANNA, OLD, survey_id=old_anna.id, purpose="survey")
        relay_to_manager = _call(7001, OLD, purpose="loop")
        new_question = _call(CLARA, NEW, survey_id=new_clara.id, purpose="survey")
        for row in (alert, boris_alert, question, edited_later, relay_to_manager, new_question):
            session.add(row)
        await session.flush()
        # An edit still waiting for the message of an old call: that call must keep its id.
        session.add(
            _call(ANNA, NEW, status="pending", target_outbox_id=edited_later.id, message_id=None)
        )
        case = AlertCase(
            survey_id=old_anna.id,
            chat_id=MANAGERS,
            outbox_id=alert.id,
            status="resolved",
            created_at=OLD,
            taken_by=7001,
            taken_by_name="Olga",
            taken_at=OLD + timedelta(hours=2),
            first_contact_at=OLD + timedelta(hours=3),
            relay_manager_id=7001,
            relay_at=OLD + timedelta(hours=3),
            resolved_by=7001,
            resolved_by_name="Olga",
            resolved_at=OLD + timedelta(hours=4),
            resolution_note="Refund to Anna",
            checklist=["apologise"],
        )
        open_case = AlertCase(
            survey_id=old_boris.id,
            chat_id=MANAGERS,
            outbox_id=boris_alert.id,
            status="taken",
            created_at=OLD,
            resolution_note="Calling Boris back",
        )
        session.add(case)
        session.add(open_case)
        await session.flush()
        for direction, text in (("to_client", "We refunded"), ("from_client", "Thanks")):
            session.add(
                CaseMessage(case_id=case.id, direction=direction, text=text, created_at=OLD)
            )
        session.add(
            CaseMessage(case_id=open_case.id, direction="to_client", text="Hi", created_at=OLD)
        )
        session.add(ManagerPrompt(user_id=7001, case_id=case.id, kind="note", created_at=NEW))
        session.add(TelegramUser(id=ANNA, language="ru", created_at=OLD))
        session.add(TelegramUser(id=DAN, language="en", opted_out_at=OLD, created_at=OLD))
        session.add(TelegramUser(id=CLARA, language="en", created_at=OLD))
        await session.commit()
        return {
            "anna": anna,
            "boris": boris,
            "clara": clara,
            "dan": dan,
            "old_anna": old_anna.id or 0,
            "old_boris": old_boris.id or 0,
            "old_clara": old_clara.id or 0,
            "new_clara": new_clara.id or 0,
            "old_dan": old_dan.id or 0,
            "question": question.id or 0,
            "edited_later": edited_later.id or 0,
            "new_question": new_question.id or 0,
            "relay": relay_to_manager.id or 0,
            "alert": alert.id or 0,
            "boris_alert": boris_alert.id or 0,
        }


def _counts(report: PurgeReport) -> dict[str, int]:
    return {
        name: getattr(report, name)
        for name in PurgeReport.__dataclass_fields__
        if name not in ("cutoff", "dry_run")
    }


EXPECTED = {
    "surveys": 3,  # Anna's, Clara's old one, Dan's
    "comments": 2,
    "voice_messages": 1,
    "cases": 1,
    "notes": 1,
    "case_messages": 2,
    "manager_prompts": 1,
    "outbox_rows": 3,  # Anna's alert, question and the manager's relay
    "customers": 2,  # Anna and Dan; Boris (open case) and Clara (newer survey) stay
    "telegram_users": 1,  # Anna's; Clara's stays with her customer
    "opt_outs_kept": 1,  # Dan's, bare
    "held_back": 1,  # Boris's survey
}


async def test_purge_removes_personal_columns_and_keeps_numbers(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    ids = await _populate(sessions)
    dry = await purge(engine, cutoff=CUTOFF, dry_run=True, batch_size=1)
    assert _counts(dry) == EXPECTED
    async with sessions() as session:  # the dry run changed nothing
        untouched = await session.get(Survey, ids["old_anna"])
        assert untouched is not None and untouched.comment == "words of T-1"

    report = await purge(engine, cutoff=CUTOFF, batch_size=1)
    assert _counts(report) == EXPECTED

    async with sessions() as session:
        await _check_surveys_and_cases(session, ids)
        await _check_calls_and_people(session, ids)

    again = await purge(engine, cutoff=CUTOFF, batch_size=2)
    assert _counts(again) == {name: 0 for name in EXPECTED} | {"held_back": 1}


async def _check_surveys_and_cases(session: AsyncSession, ids: dict[str, int]) -> None:
    anna = await session.get(Survey, ids["old_anna"])
    assert anna is not None
    assert (anna.comment, anna.chat_id, anna.message_id) == (None, None, None)
    assert (anna.score, anna.status, anna.agent, anna.team, anna.channel, anna.company) == (
        3,
        "completed",
        "Ivan",
        "L2",
        "email",
        "Globex",
    )
    assert anna.answered_at == OLD + timedelta(hours=1) and anna.sent_at is not None
    dan = await session.get(Survey, ids["old_dan"])
    assert dan is not None and (dan.voice_file_id, dan.voice_seconds) == (None, 4)
    boris = await session.get(Survey, ids["old_boris"])
    assert boris is not None and boris.comment == "words of T-2"  # case still open
    new = await session.get(Survey, ids["new_clara"])
    assert new is not None and new.comment == "words of T-4" and new.chat_id is not None

    case = (
        await session.exec(select(AlertCase).where(AlertCase.survey_id == ids["old_anna"]))
    ).one()
    assert (case.resolution_note, case.relay_manager_id) == (None, None)
    assert (case.status, case.checklist, case.outbox_id) == (
        "resolved",
        ["apologise"],
        ids["alert"],
    )
    assert case.first_contact_at == OLD + timedelta(hours=3)
    assert case.resolved_at == OLD + timedelta(hours=4)
    open_case = (
        await session.exec(select(AlertCase).where(AlertCase.survey_id == ids["old_boris"]))
    ).one()
    assert open_case.resolution_note == "Calling Boris back"
    said = (await session.exec(select(CaseMessage.text))).all()
    assert said == ["Hi"]
    assert (await session.exec(select(ManagerPrompt))).all() == []
    rating = (await session.exec(select(SurveyRating))).one()
    assert (rating.label, rating.value) == ("Speed", 2)


async def _check_calls_and_people(session: AsyncSession, ids: dict[str, int]) -> None:
    calls = {row.id: row for row in (await session.exec(select(OutboxMessage))).all()}
    for blanked in ("question", "alert", "relay"):
        assert calls[ids[blanked]].payload == {}
    assert (calls[ids["question"]].chat_id, calls[ids["question"]].message_id) == (0, None)
    assert (calls[ids["relay"]].chat_id, calls[ids["relay"]].message_id) == (0, None)
    # A group's id and message id say nothing about a person and stay.
    assert (calls[ids["alert"]].chat_id, calls[ids["alert"]].message_id) == (MANAGERS, 9)
    # Still needed: the target of a waiting edit, an open case's alert, a new question.
    for kept in ("edited_later", "boris_alert", "new_question"):
        assert calls[ids[kept]].payload == {"text": "Anna said: words"}, kept
    assert calls[ids["edited_later"]].message_id == 9

    customers = {row.helpdesk_id: row for row in (await session.exec(select(Customer))).all()}
    for gone in ("c-anna", "c-dan"):
        customer = customers[gone]
        assert (customer.name, customer.phone, customer.telegram_user_id, customer.chat_id) == (
            None,
            None,
            None,
            None,
        )
        assert (customer.company, customer.unreachable) == ("Globex", False)
    for kept in ("c-boris", "c-clara"):
        assert customers[kept].name == f"Name of {kept}" and customers[kept].phone

    users = {row.id: row for row in (await session.exec(select(TelegramUser))).all()}
    assert set(users) == {DAN, CLARA}
    assert users[DAN].opted_out_at is not None and users[DAN].language is None
    assert users[CLARA].language == "en"
    tickets = (await session.exec(select(Ticket.external_id).order_by(col(Ticket.id)))).all()
    assert tickets == ["T-1", "T-2", "T-3", "T-4", "T-5"]


async def test_purge_of_an_empty_database_reports_zeros(engine: AsyncEngine) -> None:
    report = await purge(engine, cutoff=CUTOFF)
    assert set(_counts(report).values()) == {0}
    assert "surveys anonymised: 0" in "\n".join(report.lines())
