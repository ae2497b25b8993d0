"""An alert nobody takes is announced again in its own chat, until someone takes it.

``CaseDesk.reannounce`` runs with every sweep (``bot.services.repeating_work``); the clock is
moved past the four hours and the sweep is run, so "no more reminders" is the sweep's answer,
not a wait that hoped to see nothing.
"""

from __future__ import annotations

from bot.core.routing import parse_routes
from storage.models import OutboxMessage
from tests.service_world import World, open_world, text_of

CLIENT = 5101
BOSS = 7001
BILLING = -1009990001


async def reminders(world: World) -> list[OutboxMessage]:
    """The reminders posted in Billing's chat (the alert's own edits are not messages)."""
    return [row for row in await world.messages(BILLING) if "Nobody has taken" in text_of(row)]


async def test_a_routed_alert_is_reannounced_until_taken_and_listed_in_its_chat(
    database_url: str,
) -> None:
    routes = list(parse_routes(f"team:billing={BILLING}"))
    async with open_world(database_url, alert_routes=routes) as world:
        survey_id = await world.scored_ticket("T-9", CLIENT, 2, team="Billing")
        alert = await world.detractor_alert(survey_id, 2, chat_id=BILLING)
        assert alert.message_id is not None  # delivered: a reminder can reply to it

        await world.command(BOSS, "/alerts", chat_id=BILLING)
        listed = (await world.messages(BILLING))[-1]
        assert "1 open case" in text_of(listed)
        assert "T-9" in text_of(listed) and "nobody has taken it" in text_of(listed)

        world.later(hours=3, minutes=59)
        await world.settle()
        assert await reminders(world) == []  # not yet: four hours
        world.later(minutes=2)
        await world.settle()
        await world.settle()  # a second sweep at the same hour adds nothing
        (reminder,) = await reminders(world)
        assert "Nobody has taken this detractor for 4 hours" in text_of(reminder)
        assert reminder.payload["reply_to_message_id"] == alert.message_id
        assert (await world.case(survey_id)).reannounce_count == 1
        # And the alert itself says so.
        assert "Nobody has taken this yet" in text_of(await world.shown(alert))

        await world.press_case(
            await world.button(alert, "🙋 Take it"), by=BOSS, name="Olga", in_chat=BILLING
        )
        assert "Taken by Olga" in text_of(await world.shown(alert))
        world.later(hours=5)
        await world.settle()  # past the next four hours: the sweep finds nothing to announce
        await world.command(BOSS, "/alerts", chat_id=BILLING)
        assert "taken by Olga" in text_of((await world.messages(BILLING))[-1])
        assert len(await reminders(world)) == 1  # taken: no more reminders
