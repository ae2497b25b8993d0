"""Employee NPS end to end: members join by the campaign's link, a round opens on schedule, they
answer, the round closes, and its anonymous digest reaches the campaign's chat once.

Round of 23 November 2026, 10:00 in Moscow (07:00 UTC; monthly), open 7 days, reminder after 3:
- seven members: six open the link, one is added by id and never started the bot;
- scores 10, 9, 9, 7, 3 from five members, the sixth never answers:
  3 promoters, 1 passive, 1 detractor of 5 -> eNPS (3 - 1) / 5 = 40.0;
  95% interval -30 to 80 (adjusted Wald: n' = 8, p' = 3.75/8, d' = 1.75/8);
  response rate 5 of the 6 the question reached = 83%; one member not reachable;
- two comments, fewer than the minimum of 5: held back.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect
from sqlmodel import col, select

from bot.core.periods import Period
from bot.enps.campaigns import CampaignDesk, CampaignSpec
from bot.sandbox.client import SimulatedClient
from bot.sandbox.models import SentMessage
from storage.models import EnpsComment, EnpsInvitation, EnpsResponse, EnpsRound

from .conftest import MANAGERS, Harness, ticket

TEAM = -1009876543210
MONDAY_10_MSK = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
NEVER_STARTED = 7777


def desk(harness: Harness) -> CampaignDesk:
    assert harness.bot is not None
    return CampaignDesk(harness.settings, harness.bot.services.session_factory, harness.clock)


def words(message: SentMessage) -> str:
    return html.unescape(re.sub(r"</?\w+>", "", message.text or ""))


async def join_all(harness: Harness, link: str, ids: Sequence[int]) -> list[SimulatedClient]:
    payload = link.rpartition("start=")[2]
    members = []
    for user_id in ids:
        member = harness.fake.client(user_id, f"Member {user_id}")
        await member.send_text(f"/start {payload}")
        await member.wait_for_bot_message(lambda m: "You have joined" in (m.text or ""))
        members.append(member)
    return members


async def question_of(member: SimulatedClient) -> SentMessage:
    return await member.wait_for_bot_message(lambda m: "as a place to work" in (m.text or ""))


async def answer(member: SimulatedClient, score: int) -> SentMessage:
    """Press a score and wait for the comment question."""
    await member.press_button(await question_of(member), str(score))
    return await member.wait_for_bot_message(lambda m: "Anything you would like" in (m.text or ""))


async def first_answers_and_forgeries(
    harness: Harness, members: list[SimulatedClient], questions: list[SentMessage]
) -> dict[int, SentMessage]:
    """Forged data, another member's press and a second press change nothing; two answer."""
    invitation = questions[0].callback_data("10").split(":")[1]
    stranger = await members[1].press(questions[0], f"enps:{invitation}:0")
    assert "someone else" in (
        (await harness.fake.wait_for_callback_answer(stranger)).get("text") or ""
    )
    forged = await members[0].press(questions[0], "enps:999999:0")
    assert "no longer available" in (
        (await harness.fake.wait_for_callback_answer(forged)).get("text") or ""
    )
    prompts = {0: await answer(members[0], 10), 1: await answer(members[1], 9)}
    repeat = await members[0].press(questions[0], f"enps:{invitation}:0")
    assert "already answered" in (
        (await harness.fake.wait_for_callback_answer(repeat)).get("text") or ""
    )
    answered = await members[0].wait_for_bot_message(
        lambda m: (
            m.message_id == questions[0].message_id and "recorded anonymously" in (m.text or "")
        )
    )
    assert answered.reply_markup in (None, {}) and "10" not in words(answered).split("?")[-1]

    return prompts


def check_digest(digest: SentMessage) -> None:
    """The numbers of the module's docstring, computed by hand."""
    body = words(digest)
    assert "Employee NPS: staff" in body
    assert "Nov 23, 2026 – Nov 30, 2026" in body
    assert "Response rate: 83% (5 of 6 answered)" in body
    assert "1 member could not be reached" in body
    assert "eNPS: 40, 95% interval -30 to 80" in body
    assert "No previous round to compare with" in body
    assert "3 promoters (60%)" in body and "1 passive (20%)" in body
    assert "1 detractor (20%)" in body
    assert "Scores 0 to 10: 0 · 0 · 0 · 1 · 0 · 0 · 0 · 1 · 0 · 2 · 1" in body
    # Two comments: the outbox shows who finished after the score (three members), so each
    # comment would hide among fewer than five people; they are held back.
    assert "2 comments held back: comments are shown only when there are at least 5" in body
    assert "Great team" not in body and "Too many meetings" not in body


async def check_posted_once(harness: Harness, digest: SentMessage) -> None:
    """Further ticks, a restart and a second close post nothing more; the tables agree."""
    await harness.restart()
    assert harness.bot is not None
    await harness.bot.services.enps_rounds.tick()
    async with harness.bot.services.session_factory() as session:
        rounds = (await session.exec(select(EnpsRound))).all()
        assert len(rounds) == 1 and rounds[0].status == "closed"
        assert not await harness.bot.services.enps_rounds.close(rounds[0])
        scores = sorted((await session.exec(select(EnpsResponse.score))).all())
        assert scores == [3, 7, 9, 9, 10]
        assert len((await session.exec(select(EnpsComment))).all()) == 2
        statuses = sorted((await session.exec(select(EnpsInvitation.status))).all())
        assert statuses == ["answered"] * 5 + ["expired", "unreachable"]
    assert [m for m in harness.fake.bot_messages(TEAM) if "Employee NPS" in (m.text or "")] == [
        digest
    ]
    # No eNPS answer raised a detractor alert.
    assert harness.fake.bot_messages(MANAGERS) == []


async def test_round_on_schedule_with_restart_reminder_and_anonymous_digest(
    harness: Harness,
) -> None:
    harness.fake.add_group(TEAM, "People team")
    campaigns = desk(harness)
    await campaigns.create(
        CampaignSpec(
            name="staff",
            chat_id=TEAM,
            cron="0 10 23 * *",  # monthly, on the 23rd
            company="ACME & Co",
            round_days=7,
            remind_after_days=3,
            min_group_size=5,
            members=(NEVER_STARTED,),
        )
    )
    members = await join_all(harness, await campaigns.link("staff"), range(8001, 8007))
    # Opening the link twice is harmless.
    again = (await campaigns.link("staff")).rpartition("start=")[2]
    await members[0].send_text(f"/start {again}")
    await members[0].wait_for_bot_message(lambda m: "already in" in (m.text or ""))

    harness.clock.move_to(MONDAY_10_MSK + timedelta(minutes=1))  # the schedule fires
    questions = [await question_of(member) for member in members]
    text = questions[0].text or ""
    assert "How likely are you to recommend ACME &amp; Co as a place to work?" in text
    assert "at least 5 people" in text

    prompts = await first_answers_and_forgeries(harness, members, questions)

    await harness.restart()  # mid-round: the scores so far, and the awaited comments, survive
    await members[0].send_text("Great team & <b>tools</b>")
    await members[0].wait_for_bot_message(lambda m: "answers are recorded" in (m.text or ""))
    await members[1].press_button(prompts[1], "Skip")
    await members[1].wait_for_bot_message(lambda m: "answers are recorded" in (m.text or ""))
    for member, score in zip(members[2:5], (9, 7, 3), strict=True):
        await answer(member, score)
    await members[4].send_text("Too many meetings")
    await members[4].wait_for_bot_message(lambda m: "answers are recorded" in (m.text or ""))

    harness.clock.move_to(MONDAY_10_MSK + timedelta(days=3, hours=1))  # the reminder
    reminder = await members[5].wait_for_bot_message(lambda m: "gentle reminder" in (m.text or ""))
    assert reminder.reply_to_message_id == questions[5].message_id
    assert "open until Nov 30, 2026 10:00" in words(reminder)  # Moscow time
    assert not [m for m in members[0].bot_messages() if "gentle reminder" in (m.text or "")]

    harness.clock.move_to(MONDAY_10_MSK + timedelta(days=7, minutes=1))  # the round closes
    digest = await harness.fake.wait_for(lambda m: "Employee NPS" in (m.text or ""), chat_id=TEAM)
    check_digest(digest)
    # A press after the close changes nothing.
    late = await members[5].press(questions[5], questions[5].callback_data("8"))
    assert "closed" in ((await harness.fake.wait_for_callback_answer(late)).get("text") or "")

    await check_posted_once(harness, digest)


def test_answers_cannot_be_tied_to_a_person() -> None:
    """The tables that hold scores and comments have no column that names or dates a member."""
    for table in (EnpsResponse, EnpsComment):
        columns = {column.name for column in inspect(table).columns}
        assert columns <= {"id", "round_id", "score", "text"}
    assert "score" not in {column.name for column in inspect(EnpsInvitation).columns}


async def test_too_few_answers_hide_everything_and_leave_the_customer_digest_alone(
    harness: Harness,
) -> None:
    assert harness.bot is not None
    harness.fake.add_group(TEAM, "People team")
    services = harness.bot.services
    # One customer survey in the same week: answered 9.
    client = harness.fake.client(5001, "Client")
    await harness.close_ticket(ticket("T-1", {"id": "c-1", "telegram_user_id": 5001}))
    survey_question = await client.wait_for_bot_message(lambda m: "recommend" in (m.text or ""))
    await client.press_button(survey_question, "9")
    await client.wait_for_bot_message(lambda m: "What did you like most?" in (m.text or ""))
    week = Period(
        datetime(2026, 11, 15, 21, 0, tzinfo=UTC), datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
    )
    before = await services.digest.build(week)

    campaigns = desk(harness)
    await campaigns.create(
        CampaignSpec(name="small", chat_id=TEAM, cron="0 10 1 1 *", round_days=2, language="ru")
    )
    members = await join_all_ru(harness, await campaigns.link("small"), range(8101, 8107))
    opened = await campaigns.start_round("small")
    assert opened.asked == 6
    for member, score in zip(members[:3], (0, 1, 10), strict=True):
        await member.press_button(await question_ru(member), str(score))
        prompt = await member.wait_for_bot_message(lambda m: "Пропустить" in str(m.reply_markup))
        await member.send_text("секретный комментарий")
        await member.wait_for_bot_message(lambda m: "ответы записаны" in (m.text or ""))
        assert prompt is not None

    harness.clock.move_to(harness.clock() + timedelta(days=2, minutes=1))
    digest = await harness.fake.wait_for(lambda m: "eNPS" in (m.text or ""), chat_id=TEAM)
    body = words(digest)
    assert "Слишком мало ответов" in body
    assert "3 из 6" in body
    assert "секретный" not in body and "±" not in body and "0 до 10" not in body

    # The customer side neither sees the eNPS answers nor alerted on the 0.
    after = await services.digest.build(week)
    assert (after.responses, after.nps) == (before.responses, before.nps) == (1, 100.0)
    summary = await services.digest.summary(week)
    assert "<b>100.0</b>" in summary
    export = (await services.digest.export(week, "csv")).decode("utf-8-sig")
    assert len(export.strip().splitlines()) == 2  # the header and the customer's one answer
    assert harness.fake.bot_messages(MANAGERS) == []  # the client's 9 alerts nobody, nor the 0
    async with services.session_factory() as session:
        assert (
            len(
                (await session.exec(select(EnpsResponse).where(col(EnpsResponse.score) == 0))).all()
            )
            == 1
        )


async def join_all_ru(harness: Harness, link: str, ids: Sequence[int]) -> list[SimulatedClient]:
    payload = link.rpartition("start=")[2]
    members = []
    for user_id in ids:
        member = harness.fake.client(user_id, f"Сотрудник {user_id}")
        await member.send_text(f"/start {payload}")
        await member.wait_for_bot_message(lambda m: "Вы участвуете" in (m.text or ""))
        members.append(member)
    return members


async def question_ru(member: SimulatedClient) -> SentMessage:
    return await member.wait_for_bot_message(lambda m: "как место работы" in (m.text or ""))


async def test_a_round_due_while_the_bot_was_down_opens_at_start_up(harness: Harness) -> None:
    harness.fake.add_group(TEAM, "People team")
    campaigns = desk(harness)
    await campaigns.create(CampaignSpec(name="staff", chat_id=TEAM, cron="0 10 23 * *"))
    members = await join_all(harness, await campaigns.link("staff"), [8201, 8202])
    await harness.stop()
    harness.clock.move_to(MONDAY_10_MSK + timedelta(days=2))  # due two days ago, still open
    await harness.start()
    for member in members:
        await member.press_button(await question_of(member), "8")
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        (round_row,) = (await session.exec(select(EnpsRound))).all()
    assert round_row.scheduled_for == MONDAY_10_MSK
    assert round_row.closes_at == MONDAY_10_MSK + timedelta(days=7)  # its own schedule


async def test_a_member_who_is_also_a_client_comments_on_the_question_asked_last(
    harness: Harness,
) -> None:
    harness.fake.add_group(TEAM, "People team")
    campaigns = desk(harness)
    await campaigns.create(
        CampaignSpec(name="staff", chat_id=TEAM, cron="0 10 1 1 *", round_days=7)
    )
    [member] = await join_all(harness, await campaigns.link("staff"), [8201])
    await campaigns.start_round("staff")
    await answer(member, 8)  # the eNPS comment prompt now waits for the rest of the round
    # The same person is a client: a ticket closes, they give a 2 and are asked why.
    await harness.close_ticket(ticket("T-E1", {"id": "c-e1", "telegram_user_id": 8201}))
    question = await member.wait_for_bot_message(lambda m: "T-E1" in (m.text or ""))
    await member.press_button(question, "2")
    await member.wait_for_bot_message(lambda m: "What went wrong?" in (m.text or ""))
    await member.send_text("The courier was rude")
    await harness.fake.wait_for(lambda m: "courier was rude" in (m.text or ""), chat_id=MANAGERS)
    # The eNPS prompt still waits; a text now is its comment.
    await member.send_text("More coffee, please")
    await member.wait_for_bot_message(lambda m: "answers are recorded" in (m.text or ""))
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        comments = (await session.exec(select(EnpsComment.text))).all()
    assert comments == ["More coffee, please"]
