"""A client's comment is kept exactly as typed: markup, entities, zero-width and bidi characters,
emoji and messages at and beyond Telegram's 4096 characters, on every backend.

Through the service and storage layers, without Telegram: a survey waiting for its comment is
set up directly, then ``SurveyAnswers.record_comment`` stores the text.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.core.rules import SurveyRules
from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.intake.service import TicketIntake
from bot.survey.answers import SurveyAnswers
from storage.db import SessionFactory
from storage.models import Survey

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
CLIENT = 777_000_001
NASTY = [
    "<b>bold</b> <i>it</i> <a href='tg://user?id=1'>x</a> </code>",
    "&amp; &lt; & &#x27; &nbsp;",
    "zero\u200bwidth\u200c\u200d\ufeff",
    "\u202eRTL override\u202c \u200f\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "😀👍🏽👨‍👩‍👧 \U0001f1f7\U0001f1fa",
    "line\nbreak\r\ntab\t end  ",
    "%s %d {0} {name} $(rm -rf) '; DROP TABLE survey; --",
    "\u0301\u0308combining",
    "я" * 4096,
    "x" * 4097,
    "🙂" * 5000,
]
# What Telegram can deliver: any text but NUL and lone surrogates (it is valid UTF-8).
TELEGRAM_TEXT = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1
)
tickets = itertools.count(1)


async def waiting_for_comment(sessions: SessionFactory) -> None:
    """A survey of CLIENT's, scored, whose next message is its comment."""
    intake = TicketIntake(
        session_factory=sessions,
        rules=SurveyRules(delay=timedelta(0)),
        link_secret=b"k" * 32,
        link_ttl=timedelta(days=30),
        bot_username=lambda: "acme_bot",
        clock=lambda: NOW,
    )
    customer = CustomerInfo(helpdesk_id="c-1", telegram_user_id=CLIENT)
    result = await intake.close_ticket(
        TicketClosed(ticket_id=f"T-{next(tickets)}", closed_at=NOW, customer=customer)
    )
    async with sessions() as session:
        survey = await session.get(Survey, result.survey_id)
        assert survey is not None
        survey.status, survey.score = SurveyStatus.ANSWERED, 3
        survey.chat_id, survey.answered_at, survey.sent_at = CLIENT, NOW, NOW
        session.add(survey)
        await session.commit()


async def comment_round_trip(sessions: SessionFactory, text: str) -> str | None:
    await waiting_for_comment(sessions)
    answers = SurveyAnswers(
        session_factory=sessions,
        company="ACME",
        default_language="en",
        wake=lambda: None,
        clock=lambda: NOW,
    )
    assert await answers.record_comment(chat_id=CLIENT, user_id=CLIENT, text=text)
    async with sessions() as session:
        found = await session.exec(
            select(Survey.comment).order_by(Survey.id.desc()).limit(1)  # type: ignore[union-attr]
        )
        return found.one()


@pytest.mark.parametrize("text", NASTY, ids=lambda text: repr(text[:12]))
async def test_a_nasty_comment_is_stored_exactly(sessions: SessionFactory, text: str) -> None:
    assert await comment_round_trip(sessions, text) == text


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=TELEGRAM_TEXT)
@example(text="\u2066\u2067\u2068\u2069 isolates")
async def test_any_telegram_text_is_stored_exactly(sessions: SessionFactory, text: str) -> None:
    assert await comment_round_trip(sessions, text) == text


async def test_a_nul_in_a_comment_is_dropped_not_fatal(sessions: SessionFactory) -> None:
    assert await comment_round_trip(sessions, "before\x00after") == "beforeafter"
