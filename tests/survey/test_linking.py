"""A shared contact is matched by the number Telegram gives, read as international in any region.

Telegram gives a shared contact's number without the ``+``. Read in the operator's region it
could be another number: in Germany ``61212347777`` is +49 6121 2347777, so a client whose
helpdesk number is Zammad's example ``0061 2 1234 7777`` was told they are unknown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.services import Services, build_services
from storage.migrate import upgrade_to_head
from storage.models import Customer

USER = 9301


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]
        database_url=database_url,
        phone_region="DE",
        bot_username="acme_nps_bot",
        _env_file=None,  # type: ignore[call-arg]
    )
    built = build_services(settings)
    await upgrade_to_head(built.engine)
    yield built
    await built.close()


@pytest.mark.parametrize("shared", ["61212347777", "+61212347777", " 61 2 1234 7777 "])
async def test_a_shared_contact_is_read_as_the_international_number_it_is(
    services: Services, shared: str
) -> None:
    closing = TicketClosed(
        ticket_id="Z-1",
        closed_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        customer=CustomerInfo(helpdesk_id="zammad-7", phone="0061 2 1234 7777"),
    )
    await services.intake.close_ticket(closing)
    linked = await services.linking.share_contact(
        user_id=USER, chat_id=USER, contact_user_id=USER, phone=shared, language="en"
    )
    assert linked
    async with services.session_factory() as session:
        customer = (await session.exec(select(Customer))).one()
    assert (customer.phone, customer.chat_id) == ("+61212347777", USER)
