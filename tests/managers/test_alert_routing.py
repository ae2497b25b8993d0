"""A detractor's alert goes to the one managers' chat its routing rules pick.

Routing is decided when the score is stored (``DetractorAlerts.chat_for``); the alert and its
case are written in that transaction, so the outbox shows exactly where each alert went.
"""

from __future__ import annotations

from bot.core.routing import parse_routes
from storage.models import OutboxMessage
from tests.service_world import MANAGERS, World, open_world, text_of

CLIENT = 5101
OTHER_CLIENT = 5102
BILLING = -1009990001
PHONE = -1009990002
GLOBEX = -1009990003


async def alerts_in(world: World, chat_id: int) -> list[OutboxMessage]:
    return [row for row in await world.messages(chat_id) if "Detractor" in text_of(row)]


async def test_an_alert_routed_by_team_goes_to_that_teams_chat_only(database_url: str) -> None:
    """Billing's managers see Billing's detractors; the default chat sees none of them."""
    routes = list(parse_routes(f"team:billing={BILLING}"))
    async with open_world(database_url, alert_routes=routes) as world:
        survey_id = await world.scored_ticket("T-9", CLIENT, 2, team="Billing")

        (alert,) = await alerts_in(world, BILLING)
        assert "Detractor: 2/10" in text_of(alert)
        assert await alerts_in(world, MANAGERS) == []
        assert (await world.case(survey_id)).chat_id == BILLING


async def test_alerts_are_routed_by_channel_and_company(database_url: str) -> None:
    """The first matching rule wins (channel before company here), and a survey no rule
    matches goes to the default chat: each alert is posted in one chat only."""
    routes = list(parse_routes(f"channel:phone={PHONE}; company:globex={GLOBEX}"))
    async with open_world(database_url, alert_routes=routes, throttle_days=0) as world:
        await world.scored_ticket("T-21", CLIENT, 3, channel="phone")  # Globex's, by phone
        await world.scored_ticket("T-22", CLIENT, 4, channel="email")
        await world.scored_ticket("T-23", OTHER_CLIENT, 5, company="Initech")

        alerts = {chat: await alerts_in(world, chat) for chat in (PHONE, GLOBEX, MANAGERS)}
        assert [len(rows) for rows in alerts.values()] == [1, 1, 1]  # each in one chat only
        assert "T-21" in text_of(alerts[PHONE][0])
        assert "T-22" in text_of(alerts[GLOBEX][0])
        assert "T-23" in text_of(alerts[MANAGERS][0])
        for chat, (alert,) in alerts.items():  # its edits (the comment awaited) stay there
            assert {edit.chat_id for edit in await world.edits(alert)} <= {chat}
