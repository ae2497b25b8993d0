"""A skip rule's reason fits the column that keeps it, however long the operator's tag is.

Tags may be 100 characters (``bot.intake.limits``) and channels 255, but ``survey.skip_reason``
holds 64: on PostgreSQL a closing with a long skip tag was refused by the database, and lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.services import Services, build_services
from storage.migrate import upgrade_to_head
from storage.models import Survey

LONG_TAG = "auto-closed-by-the-nightly-cleanup-of-tickets-that-nobody-answered-for-thirty-days"


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]
        database_url=database_url,
        bot_username="acme_nps_bot",
        skip_tags=LONG_TAG,
        _env_file=None,  # type: ignore[call-arg]
    )
    built = build_services(settings)
    await upgrade_to_head(built.engine)
    yield built
    await built.close()


async def test_a_closing_with_a_long_skip_tag_is_recorded_as_skipped(services: Services) -> None:
    closing = TicketClosed(
        ticket_id="T-1",
        closed_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        customer=CustomerInfo(helpdesk_id="c-1"),
        tags=(LONG_TAG.upper(),),
    )
    result = await services.intake.close_ticket(closing)
    assert result.status == "skipped"
    async with services.session_factory() as session:
        survey = await session.get(Survey, result.survey_id)
    assert survey is not None and survey.skip_reason == f"tag:{LONG_TAG}"[:64]
