"""An employee may be a client too: a text goes to the question the bot asked last.

The eNPS comment prompt waits for the whole round, and the member's private texts pass the
eNPS hook before the customer survey's comment (``bot.services.feature_handlers``): the hook
must step aside when a customer survey asked for its comment after the eNPS prompt, or "What
went wrong?" would be answered into the team's digest. Texts go through the handlers' chain.
"""

from __future__ import annotations

from sqlmodel import select

from bot.enps.campaigns import CampaignDesk, CampaignSpec
from storage.models import EnpsComment
from tests.service_world import MANAGERS, open_world, text_of

TEAM = -1009876543210
MEMBER = 8201


async def test_a_member_who_is_also_a_client_comments_on_the_question_asked_last(
    database_url: str,
) -> None:
    async with open_world(database_url) as world:
        campaigns = CampaignDesk(world.settings, world.services.session_factory, world.clock)
        await campaigns.create(
            CampaignSpec(name="staff", chat_id=TEAM, cron="0 10 1 1 *", round_days=7)
        )
        await world.join(await campaigns.link("staff"), MEMBER)
        await campaigns.start_round("staff")
        await world.deliver()
        await world.enps_press(await world.enps_question(MEMBER), "8", by=MEMBER)
        # The eNPS comment prompt now waits for the rest of the round.
        assert "Anything you would like" in text_of((await world.messages(MEMBER))[-1])

        # The same person is a client: a ticket closes, they give a 2 and are asked why.
        world.later(minutes=1)
        survey_id = await world.close_ticket("T-E1", MEMBER, customer_id="c-e1", company=None)
        assert "T-E1" in text_of(await world.question(survey_id))
        await world.score(survey_id, MEMBER, 2)
        assert "What went wrong?" in text_of((await world.messages(MEMBER))[-1])
        world.later(minutes=1)
        await world.private_text(MEMBER, "The courier was rude")
        alert = await world.detractor_alert(survey_id, 2, chat_id=MANAGERS)
        assert "courier was rude" in text_of(await world.shown(alert))

        # The eNPS prompt still waits; a text now is its comment.
        world.later(minutes=1)
        await world.private_text(MEMBER, "More coffee, please")
        assert "answers are recorded" in text_of((await world.messages(MEMBER))[-1])
        async with world.services.session_factory() as session:
            comments = (await session.exec(select(EnpsComment.text))).all()
        assert comments == ["More coffee, please"]
