"""A round due while the bot was down opens at the first tick after, on its own schedule.

``EnpsRounds.tick`` reads the campaigns' schedules from the database, and the scheduler runs it
as soon as the bot starts (``bot.services.repeating_work``): a downtime delays the round, it
does not skip it or move its dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.enps.campaigns import CampaignDesk, CampaignSpec
from storage.models import EnpsInvitation, EnpsRound
from tests.service_world import open_world

TEAM = -1009876543210
MONDAY_10_MSK = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # "0 10 23 * *" in Moscow
MEMBERS = (8201, 8202)


async def test_a_round_due_while_the_bot_was_down_opens_at_start_up(database_url: str) -> None:
    async with open_world(database_url) as world:
        campaigns = CampaignDesk(world.settings, world.services.session_factory, world.clock)
        await campaigns.create(CampaignSpec(name="staff", chat_id=TEAM, cron="0 10 23 * *"))
        link = await campaigns.link("staff")
        for member in MEMBERS:
            await world.join(link, member)
        await world.settle()  # the running bot ticks: nothing is due yet
        async with world.services.session_factory() as session:
            assert (await session.exec(select(EnpsRound))).all() == []

        world.clock.move_to(MONDAY_10_MSK + timedelta(days=2))  # due two days ago, still open
        await world.restart()  # the bot was down meanwhile: no tick ran
        await world.settle()  # the first tick after the start
        for member in MEMBERS:
            toast = await world.enps_press(await world.enps_question(member), "8", by=member)
            assert toast == "Thank you!"
        async with world.services.session_factory() as session:
            (round_row,) = (await session.exec(select(EnpsRound))).all()
            statuses = (await session.exec(select(EnpsInvitation.status))).all()
        assert round_row.scheduled_for == MONDAY_10_MSK
        assert round_row.closes_at == MONDAY_10_MSK + timedelta(days=7)  # its own schedule
        assert statuses == ["scored", "scored"]
