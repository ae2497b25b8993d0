"""Data care against the running product: purge keeps every number, import sends nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, func, select

from bot.datacare.importer import Rejected
from bot.datacare.runs import import_file, purge_old_data
from storage.db import make_engine, make_session_factory
from storage.models import AlertCase, CaseMessage, Customer, OutboxMessage, Survey
from tests.datacare.helpers import digest_of
from tests.e2e.conftest import MANAGERS, Harness, ticket
from tests.e2e.test_closed_loop import (
    BOSS,
    CLIENT,
    reconfigure,
    reply_and_hear_back,
    resolve_with_checklist_and_note,
    score_ticket,
    stored_case,
    take,
)

LATER_CLIENT = 5102  # closes a ticket after the cut-off
WEEK = "2026-W47"  # the harness's clock: Wednesday 18 November 2026


async def _closed_loop_then_a_newer_ticket(harness: Harness) -> int:
    """Anna's promoter and detractor, the whole loop on the detractor; a newer pending survey."""
    await reconfigure(harness, manager_user_ids=[BOSS], throttle_days=0)
    client = harness.fake.client(CLIENT, "Anna")
    await score_ticket(harness, CLIENT, "T-1", 9)
    await client.wait_for_bot_message(lambda m: "What did you like most?" in m.content)
    await client.send_text("Quick and kind")
    await client.wait_for_bot_message(lambda m: "Thank you" in m.content)
    survey_id = await score_ticket(harness, CLIENT, "T-2", 3)
    await client.wait_for_bot_message(lambda m: "What went wrong?" in m.content)
    await client.send_text("Slow & rude")
    alert = await harness.fake.wait_for(
        lambda m: "Detractor: 3/10" in m.content and "Slow" in m.content, chat_id=MANAGERS
    )
    case = await stored_case(harness, survey_id)
    assert case.id is not None
    await take(harness, alert, case.id, survey_id)
    await reply_and_hear_back(harness, alert, case.id)
    await resolve_with_checklist_and_note(harness, alert, case.id)
    # Closed well after the cut-off: still due, so it and its customer are kept.
    later = {"id": f"c-{LATER_CLIENT}", "telegram_user_id": LATER_CLIENT, "name": "Boris"}
    response = await harness.close_ticket(ticket("T-3", later, closed_at="2027-06-01T10:00:00Z"))
    assert response.status_code == 202
    return survey_id


async def test_purge_keeps_the_digest_and_nps_and_removes_the_words(harness: Harness) -> None:
    detractor = await _closed_loop_then_a_newer_ticket(harness)
    settings = harness.settings
    await harness.stop()  # what the bot was sending is out; now only the numbers matter
    before, summary_before, _ = await digest_of(settings, WEEK)
    assert before.responses == 2 and before.loop is not None and before.loop.resolved == 1
    assert sorted(c.text for c in before.comments) == ["Quick and kind", "Slow & rude"]

    now = harness.clock() + timedelta(days=60)  # a cut-off between November and next June
    report = await purge_old_data(settings, older_than="30d", now=now)
    assert (report.surveys, report.comments, report.cases, report.notes) == (2, 2, 1, 1)
    assert report.case_messages == 2 and report.customers == 1 and report.held_back == 0
    assert report.outbox_rows > 0

    after, summary_after, _ = await digest_of(settings, WEEK)
    assert after.comments == []
    assert dataclasses.replace(after, comments=[]) == dataclasses.replace(before, comments=[])
    assert summary_after == summary_before

    await _check_words_gone(harness, settings.database_url, detractor)
    again = await purge_old_data(settings, older_than="30d", now=now)
    assert (again.surveys, again.outbox_rows, again.customers, again.case_messages) == (0, 0, 0, 0)


async def _check_words_gone(harness: Harness, database_url: str, detractor: int) -> None:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            scored = (await session.exec(select(Survey).order_by(col(Survey.id)))).all()
            assert [(s.score, s.comment, s.chat_id) for s in scored[:2]] == [
                (9, None, None),
                (3, None, None),
            ]
            assert scored[2].status == "pending"  # the newer closing is untouched
            case = (
                await session.exec(select(AlertCase).where(AlertCase.survey_id == detractor))
            ).one()
            assert case.resolution_note is None and case.status == "resolved"
            assert case.checklist == ["apologise", "fix"] and case.first_contact_at is not None
            said = (await session.exec(select(func.count()).select_from(CaseMessage))).one()
            assert said == 0
            customers = {c.helpdesk_id: c for c in (await session.exec(select(Customer))).all()}
            anna = customers[f"c-{CLIENT}"]
            assert (anna.telegram_user_id, anna.chat_id, anna.name) == (None, None, None)
            assert customers[f"c-{LATER_CLIENT}"].name == "Boris"
            calls = (await session.exec(select(OutboxMessage))).all()
            for call in calls:
                text = str(call.payload)
                for word in ("Slow", "Quick and kind", "refunded", "courier", "Thanks, got it"):
                    assert word not in text, (call.id, call.purpose)
                assert call.chat_id not in (CLIENT, BOSS)
    finally:
        await engine.dispose()
    assert harness.bot is None


async def test_imported_detractors_send_nothing_and_count_in_nps(
    harness: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "ticket_id,answered_at,score,comment,customer_id\n"
        "H-1,2026-11-17T10:00:00+03:00,0,Awful,c-old\n"
        "H-2,2026-11-17T11:00:00+03:00,1,,c-old\n"
        "H-3,2026-11-17T12:00:00+03:00,10,Great,c-other\n",
        encoding="utf-8",
    )
    rejected: list[Rejected] = []
    report = await import_file(
        harness.settings, path, on_reject=rejected.append, now=harness.clock()
    )
    assert (report.imported, rejected) == (3, [])
    assert harness.bot is not None
    await harness.bot.services.sweep.run()  # what the scheduler does every 0.2 s anyway

    manager = harness.fake.client(BOSS, "Olga")
    await manager.send_text("/nps 7d", chat_id=MANAGERS)
    summary = await harness.fake.wait_for(lambda m: "NPS" in m.content, chat_id=MANAGERS)
    assert "3 responses" in summary.content
    # Only the answer to /nps went out: no survey, reminder or alert for an imported answer.
    sent = harness.fake.calls_of("sendMessage")
    assert [call.params.get("chat_id") for call in sent] == [MANAGERS]
    async with harness.bot.services.session_factory() as session:
        chats = (await session.exec(select(OutboxMessage.chat_id))).all()
        assert set(chats) == {MANAGERS}
        assert (await session.exec(select(func.count()).select_from(AlertCase))).one() == 0
