"""The HTTP app with every adapter configured, over a real TicketIntake and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.config import Settings
from bot.core.rules import SurveyRules
from bot.intake.adapters import build_adapters
from bot.intake.http import create_http_app
from bot.intake.service import TicketIntake
from storage.db import SessionFactory
from storage.models import Customer, Survey, Ticket
from tests.intake.cases import CASES, NOW, SKEW

API_TOKEN = "intake-s3cret"
GENERIC_SECRET = "generic-signing-secret"


def intake_for(sessions: SessionFactory) -> TicketIntake:
    """The intake as the app builds it, with no delay and a fixed clock."""
    return TicketIntake(
        session_factory=sessions,
        rules=SurveyRules(delay=timedelta(0)),
        link_secret=b"k" * 32,
        link_ttl=timedelta(days=30),
        bot_username=lambda: "acme_bot",
        clock=lambda: NOW,
    )


def settings(**overrides: object) -> Settings:
    """Settings with every helpdesk secret set, ignoring any .env file."""
    values: dict[str, object] = {case.helpdesk.enabled_by: case.secret for case in CASES}
    values |= {"webhook_max_skew_seconds": int(SKEW.total_seconds()), "_env_file": None}
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture
async def client(sessions: SessionFactory) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, every adapter and the generic signature configured."""
    app = create_http_app(
        intake_for(sessions),
        api_token=API_TOKEN,
        adapters=build_adapters(settings(), clock=lambda: NOW),
        generic_webhook_secret=GENERIC_SECRET,
        webhook_max_skew=SKEW,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://npsbot.test") as http:
        yield http


async def stored(sessions: SessionFactory) -> tuple[int, int, int]:
    """How many customers, tickets and surveys the database holds."""
    async with sessions() as session:
        counts = []
        for model in (Customer, Ticket, Survey):
            result = await session.exec(select(func.count()).select_from(model))
            counts.append(result.one())
    return counts[0], counts[1], counts[2]
