"""A manager writes to a detractor through the bot, and the client answers: nothing either of them
writes is lost, misfiled or silently dropped.

Private texts go through the clients' text handler and its hooks (``bot.services.
feature_handlers``), because the order of those hooks is what decides whether a text is a
manager's reply, a client's answer to a manager, or a survey's comment.
"""

from __future__ import annotations

from storage.models import Survey
from tests.service_world import MANAGERS, World, open_world, text_of

CLIENT = 5101
BOSS = 7001


async def reply_pressed(world: World, survey_id: int) -> str:
    """The manager presses Reply to client under the alert, in the managers' chat; the toast."""
    alert = await world.alert(survey_id)
    data = await world.button(alert, "💬 Reply to client")
    reply = await world.press_case(data, by=BOSS, name="Olga", in_chat=MANAGERS)
    return reply.text


async def test_a_reply_the_client_cannot_get_is_reported_to_the_manager(
    database_url: str,
) -> None:
    """The client blocks the bot right after their 0, before its follow-up question reached
    them. Telegram refuses the follow-up and then the manager's relay: the delivery hook tells
    the manager who wrote, once, without repeating what they wrote."""
    async with open_world(database_url, manager_user_ids=[BOSS]) as world:
        survey_id = await world.close_ticket("T-5", CLIENT)
        await world.score(survey_id, CLIENT, 0, deliver=False)
        world.telegram.blocked.add(CLIENT)
        await world.deliver()
        question, follow_up = await world.messages(CLIENT)
        assert (question.status, follow_up.status) == ("sent", "failed")
        assert "What went wrong?" in text_of(follow_up)
        await world.detractor_alert(survey_id, 0)
        case = await world.case(survey_id)
        await reply_pressed(world, survey_id)
        await world.private_text(BOSS, "Sorry about that")  # no /start needed once pressed

        (warning,) = [text for text in await world.texts(BOSS) if "did not reach" in text]
        assert "did not reach the client" in warning
        assert "Sorry about that" not in warning
        assert (await world.case(survey_id)).id == case.id


async def test_a_late_or_stray_reply_is_never_silently_dropped(database_url: str) -> None:
    """A reply to a press a day old is not sent and the manager is told so; a text with no
    press waiting is answered with how to write to a client."""
    async with open_world(database_url, manager_user_ids=[BOSS]) as world:
        survey_id = await world.scored_ticket("T-6", CLIENT, 4)
        await world.detractor_alert(survey_id, 4)
        await reply_pressed(world, survey_id)
        world.later(hours=25)
        await world.private_text(BOSS, "Sorry for the wait")
        late = (await world.texts(BOSS))[-1]
        assert "pressed too long ago" in late and "T-6" in late

        await world.private_text(BOSS, "Hello?")
        assert "Not sent to anyone" in (await world.texts(BOSS))[-1]
        assert not [text for text in await world.texts(CLIENT) if "Sorry for the wait" in text]


async def test_the_clients_answer_to_a_manager_is_not_taken_for_the_comment(
    database_url: str,
) -> None:
    """The client answers the last thing the bot said: a manager who wrote after "What went
    wrong?" gets the answer; a survey asked after the manager's message gets its comment."""
    async with open_world(database_url, manager_user_ids=[BOSS], throttle_days=0) as world:
        survey_id = await world.scored_ticket("T-7", CLIENT, 2)
        assert any("What went wrong?" in text for text in await world.texts(CLIENT))
        await world.detractor_alert(survey_id, 2)
        # The manager is quick: they write before the client has answered "What went wrong?".
        world.later(minutes=1)
        await reply_pressed(world, survey_id)
        await world.private_text(BOSS, "Sorry! What happened?")
        assert "What happened?" in text_of((await world.messages(CLIENT))[-1])
        world.later(minutes=1)
        await world.private_text(CLIENT, "The courier was rude")
        back = (await world.messages(BOSS))[-1]
        assert "The courier was rude" in text_of(back) and "T-7" in text_of(back)
        async with world.services.session_factory() as session:
            survey = await session.get(Survey, survey_id)
            assert survey is not None and survey.comment is None  # not stored as the comment

        # A later survey's question comes after the manager's message: its answer is the comment.
        world.later(minutes=1)
        later = await world.scored_ticket("T-8", CLIENT, 3)
        (asked,) = [
            row
            for row in await world.messages(CLIENT)
            if row.survey_id == later and "What went wrong?" in text_of(row)
        ]
        assert asked.message_id is not None and back.message_id is not None
        assert asked.message_id > back.message_id
        world.later(minutes=1)
        await world.private_text(CLIENT, "Still slow")
        alert = await world.detractor_alert(later, 3)
        assert "Still slow" in text_of(await world.shown(alert))
        async with world.services.session_factory() as session:
            survey = await session.get(Survey, later)
            assert survey is not None and survey.comment == "Still slow"
        assert not [text for text in await world.texts(BOSS) if "Still slow" in text]


async def test_long_notes_and_replies_are_cut_and_old_prompt_links_do_nothing(
    database_url: str,
) -> None:
    """Telegram's limit is met by cutting (and saying so), never by refusing; a prompt link
    opened a day later asks for nothing, and says so."""
    async with open_world(database_url, manager_user_ids=[BOSS]) as world:
        survey_id = await world.scored_ticket("T-31", CLIENT, 2)
        alert = await world.detractor_alert(survey_id, 2)
        case_id = (await world.case(survey_id)).id

        await reply_pressed(world, survey_id)
        await world.private_text(BOSS, "r" * 3600)
        assert "shortened to 3500 characters" in (await world.texts(BOSS))[-1]
        relayed = text_of((await world.messages(CLIENT))[-1])
        assert "rrrr" in relayed
        assert relayed.count("r") < 3600 and "…" in relayed

        await world.press_case(
            await world.button(alert, "✅ Resolved"), by=BOSS, name="Olga", in_chat=MANAGERS
        )
        await world.press_case(
            await world.button(alert, "✅ Save as resolved"), by=BOSS, name="Olga", in_chat=MANAGERS
        )
        assert "Resolved by Olga" in text_of(await world.shown(alert))
        await world.private_text(BOSS, "n" * 1200)
        assert "shortened to 1000 characters" in (await world.texts(BOSS))[-1]
        assert (await world.case(survey_id)).resolution_note == "n" * 1000

        # A prompt link opened a day later asks for nothing, and says so.
        await reply_pressed(world, survey_id)
        world.later(hours=25)
        await world.command(BOSS, f"/start reply-{case_id}")
        assert "That link is out of date" in (await world.texts(BOSS))[-1]
        assert not [t for t in await world.texts(BOSS) if "Write your reply to the client" in t]
