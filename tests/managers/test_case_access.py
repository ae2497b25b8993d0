"""Who may act on a detractor's case, and where.

A button's data can be forged by anyone, so ``CaseDesk.press`` checks the presser and the chat
of the pressed message (both are what the press handler hands it) before anything changes: in a
group, only the case's own chat counts; in private, the manager list, or (with no list) a part
already taken in the case. The one forged press through Telegram itself stays in
tests/e2e/test_closed_loop.py.
"""

from __future__ import annotations

from bot.core.routing import parse_routes
from tests.service_world import MANAGERS, open_world, text_of

CLIENT = 5101
BOSS = 7001  # a configured manager
OUTSIDER = 7002  # in the managers' group, but not on the list
BILLING = -1009990001
REFUSED = "only the support managers"


async def test_a_cases_buttons_pressed_in_another_managers_chat_change_nothing(
    database_url: str,
) -> None:
    """The case is Billing's: its buttons forged onto a message of the default managers' chat
    are refused, though the presser may act there, and the case stays as it was."""
    routes = list(parse_routes(f"team:billing={BILLING}"))
    async with open_world(database_url, alert_routes=routes) as world:
        survey_id = await world.scored_ticket("T-9", CLIENT, 2, team="Billing")
        case = await world.case(survey_id)
        # The message pressed in the managers' chat: the answer to /alerts there.
        await world.command(BOSS, "/alerts", chat_id=MANAGERS)
        (elsewhere,) = await world.messages(MANAGERS)
        assert "No open cases" in text_of(elsewhere)  # Billing's case is not this chat's

        for action in ("take", "done", "reply"):
            forged = await world.press_case(
                f"case:{case.id}:{action}", by=BOSS, name="Olga", in_chat=MANAGERS
            )
            assert REFUSED in forged.text
        unchanged = await world.case(survey_id)
        assert (unchanged.status, unchanged.taken_by, unchanged.relay_manager_id) == (
            "open",
            None,
            None,
        )


async def test_private_presses_need_the_list_or_a_part_in_the_case(database_url: str) -> None:
    """In a private chat there is no group membership to vouch for the presser."""
    async with open_world(database_url) as world:
        survey_id = await world.scored_ticket("T-3", CLIENT, 1)
        alert = await world.detractor_alert(survey_id, 1)
        case_id = (await world.case(survey_id)).id
        # No list: the group's member who took the case may press in private, another may not.
        take = await world.button(alert, "🙋 Take it")
        await world.press_case(take, by=OUTSIDER, name="Mallory", in_chat=MANAGERS)
        assert "Taken by Mallory" in text_of(await world.shown(alert))
        reply = f"case:{case_id}:reply"
        refused = await world.press_case(reply, by=BOSS, name="Olga", in_chat=BOSS)
        assert REFUSED in refused.text
        allowed = await world.press_case(reply, by=OUTSIDER, name="Mallory", in_chat=OUTSIDER)
        assert allowed.text == "Write your reply below."

        # With a list, only listed users act in private, whatever they did before.
        await world.restart(manager_user_ids=[BOSS])
        taken = f"case:{case_id}:take"
        refused = await world.press_case(taken, by=OUTSIDER, name="Mallory", in_chat=OUTSIDER)
        assert REFUSED in refused.text
        allowed = await world.press_case(reply, by=BOSS, name="Olga", in_chat=BOSS)
        assert allowed.text == "Write your reply below."


async def test_manager_commands_are_refused_to_clients(database_url: str) -> None:
    """A client who types /alerts is told it is for the support team, in their own chat."""
    async with open_world(database_url) as world:
        await world.command(CLIENT, "/alerts")

        (refusal,) = await world.messages(CLIENT)
        assert "for the support team" in text_of(refusal)
        assert refusal.chat_id == CLIENT
