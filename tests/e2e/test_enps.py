"""Employee NPS end to end: members join by the campaign's link, a round opens on schedule, they
answer, the round closes, and its anonymous digest reaches the campaign's chat once.

Round of 23 November 2026, 10:00 in Moscow (07:00 UTC; monthly), open 7 days, reminder after 3:
- seven members: six open the link, one is added by id and never started the bot;
- scores 10, 9, 9, 7, 3 from five members, the sixth never answers:
  3 promoters, 1 passive, 1 detractor of 5 -> eNPS (3 - 1) / 5 = 40.0;
  95% interval -30 to 80 (adjusted Wald: n' = 8, p' = 3.75/8, d' = 1.75/8);
  response rate 5 of the 6 the question reached = 83%; one member not reachable;
- two comments, fewer than the minimum of 5: held back.

A round below the minimum, a round due while the bot was down, tables that cannot tie an answer
to a person, and a member who is a client too need no Telegram: they are tested on the services
and the outbox in tests/enps (test_anonymity, test_catch_up, test_member_who_is_a_client).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.enps.campaigns import CampaignDesk, CampaignSpec
from bot.sandbox.client import SimulatedClient
from bot.sandbox.models import SentMessage
from storage.models import EnpsComment, EnpsInvitation, EnpsResponse, EnpsRound

from .conftest import MANAGERS, Harness

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
