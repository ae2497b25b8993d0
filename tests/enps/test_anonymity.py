"""An eNPS round stays anonymous: no table ties a score to a person, a round with too few answers
shows nothing but participation, and nothing of it reaches the customer side.

The services run on a real database; what the team's chat would read is the digest's outbox row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect
from sqlmodel import col, select

from bot.core.periods import Period
from bot.enps.campaigns import CampaignDesk, CampaignSpec
from storage.models import EnpsComment, EnpsInvitation, EnpsResponse
from tests.service_world import MANAGERS, buttons, open_world, text_of, words

TEAM = -1009876543210
CLIENT = 5001
MEMBERS = range(8101, 8107)


def test_answers_cannot_be_tied_to_a_person() -> None:
    """The tables that hold scores and comments have no column that names or dates a member."""
    for table in (EnpsResponse, EnpsComment):
        columns = {column.name for column in inspect(table).columns}
        assert columns <= {"id", "round_id", "score", "text"}
    assert "score" not in {column.name for column in inspect(EnpsInvitation).columns}


async def test_too_few_answers_hide_everything_and_leave_the_customer_digest_alone(
    database_url: str,
) -> None:
    """Three answers of six, below the minimum of five: the digest says only how many answered.
    The customer digest of the same week, its export and the alerts know nothing of the round
    (an eNPS 0 is no detractor)."""
    async with open_world(database_url) as world:
        services = world.services
        # One customer survey in the same week: answered 9.
        survey_id = await world.close_ticket("T-1", CLIENT, customer_id="c-1", company=None)
        assert "recommend" in text_of(await world.question(survey_id))
        await world.score(survey_id, CLIENT, 9)
        assert "What did you like most?" in text_of((await world.messages(CLIENT))[-1])
        week = Period(
            datetime(2026, 11, 15, 21, 0, tzinfo=UTC), datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
        )
        before = await services.digest.build(week)

        campaigns = CampaignDesk(world.settings, services.session_factory, world.clock)
        await campaigns.create(
            CampaignSpec(name="small", chat_id=TEAM, cron="0 10 1 1 *", round_days=2, language="ru")
        )
        link = await campaigns.link("small")
        for member in MEMBERS:
            await world.join(link, member)
            assert "Вы участвуете" in text_of((await world.messages(member))[-1])
        opened = await campaigns.start_round("small")
        assert opened.asked == 6
        await world.deliver()
        for member, score in zip(MEMBERS[:3], (0, 1, 10), strict=True):
            question = await world.enps_question(member)
            assert "как место работы" in text_of(question)
            await world.enps_press(question, str(score), by=member)
            prompt = (await world.messages(member))[-1]
            assert any("Пропустить" in label for label in buttons(prompt.payload))
            await world.private_text(member, "секретный комментарий")
            assert "ответы записаны" in text_of((await world.messages(member))[-1])

        world.later(days=2, minutes=1)
        await world.settle()
        (digest,) = [row for row in await world.messages(TEAM) if "eNPS" in text_of(row)]
        body = words(digest)
        assert "Слишком мало ответов" in body
        assert "3 из 6" in body
        assert "секретный" not in body and "±" not in body and "0 до 10" not in body

        # The customer side neither sees the eNPS answers nor alerted on the 0.
        after = await services.digest.build(week)
        assert (after.responses, after.nps) == (before.responses, before.nps) == (1, 100.0)
        summary = await services.digest.summary(week)
        assert "NPS: <b>100</b>" in summary
        export = (await services.digest.export(week, "csv")).decode("utf-8-sig")
        assert len(export.strip().splitlines()) == 2  # the header and the customer's one answer
        assert await world.calls(MANAGERS) == []  # the client's 9 alerts nobody, nor the 0
        async with services.session_factory() as session:
            zeros = await session.exec(select(EnpsResponse).where(col(EnpsResponse.score) == 0))
            assert len(zeros.all()) == 1
