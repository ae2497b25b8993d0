""" "Did we make it right?" is asked after a resolved case only when the operator turned it on,
and never of a client who said /stop.

The question is an outbox row of purpose ``recovery`` written by ``CaseDesk`` in the resolving
transaction: none in the outbox means none was, or will be, sent. The question asked and answered
through Telegram is tests/e2e/test_closed_loop.py's main flow.
"""

from __future__ import annotations

from sqlmodel import col, func, select

from bot.core.callback import RightsPress
from bot.delivery.purposes import Purpose
from storage.models import OutboxMessage
from tests.service_world import World, open_world, press_of, text_of

CLIENT = 5101
BOSS = 7001


async def recovery_questions(world: World) -> int:
    async with world.services.session_factory() as session:
        found = await session.exec(
            select(func.count()).where(col(OutboxMessage.purpose) == Purpose.RECOVERY)
        )
        return int(found.one())


async def resolve(world: World, alert: OutboxMessage) -> None:
    """Resolved, then Save, with no step ticked; the alert says so."""
    for label in ("✅ Resolved", "✅ Save as resolved"):
        data = await world.button(alert, label)
        await world.press_case(data, by=BOSS, name="Olga", in_chat=alert.chat_id)
    assert "Resolved by Olga" in text_of(await world.shown(alert))


async def test_no_recovery_question_unless_asked_for_nor_after_stop(database_url: str) -> None:
    async with open_world(database_url, manager_user_ids=[BOSS], throttle_days=0) as world:
        assert not world.settings.recovery_survey  # off unless asked for
        first = await world.scored_ticket("T-11", CLIENT, 2)
        await resolve(world, await world.detractor_alert(first, 2))
        assert (await world.case(first)).status == "resolved"
        assert await recovery_questions(world) == 0

        await world.restart(recovery_survey=True)
        second = await world.scored_ticket("T-12", CLIENT, 1)
        alert = await world.detractor_alert(second, 1)
        await world.command(CLIENT, "/stop")
        confirm = (await world.messages(CLIENT))[-1]
        assert "Stop all surveys?" in text_of(confirm)
        stop = press_of(confirm.payload, "Yes, stop surveys")
        assert isinstance(stop, RightsPress) and confirm.message_id is not None
        await world.services.rights.answer(
            stop.action,
            confirmed=stop.confirmed,
            user_id=CLIENT,
            chat_id=CLIENT,
            message_id=confirm.message_id,
            language="en",
        )
        await world.deliver()
        assert "will not get surveys" in text_of(await world.shown(confirm))
        await resolve(world, alert)
        assert (await world.case(second)).status == "resolved"
        assert await recovery_questions(world) == 0  # a client who said /stop is left alone
