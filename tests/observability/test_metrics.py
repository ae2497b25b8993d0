"""The metrics count what happened, once, at the seams that know it: the intake's results,
committed answers, the outbox's recorded results; the outbox gauges come from the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.core.rules import SurveyRules
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.delivery.dispatcher import Dispatcher
from bot.intake.adapters.base import Ignored, TicketReopened
from bot.intake.webhooks import apply_event
from bot.observability.backlog import OutboxGauges
from bot.observability.metrics import SURVEY_OUTCOMES, Metrics
from bot.observability.readiness import Readiness
from bot.observability.routes import ops_router
from storage import outbox
from storage.db import SessionFactory
from storage.models import Customer, OutboxMessage, Survey, Ticket
from storage.outbox import ClaimedCall
from storage.survey_queries import SurveyContext
from tests.delivery.test_results import OneShotSender, Outage
from tests.intake.conftest import intake_for
from tests.observability.scrape import delta, samples, series, value

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def scrape(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return samples(generate_latest(metrics.registry))


def closing(ticket_id: str, **extra: object) -> TicketClosed:
    customer = CustomerInfo(helpdesk_id=f"c-{ticket_id}", name="Anna", phone="+79001234567")
    return TicketClosed(ticket_id=ticket_id, closed_at=NOW, customer=customer, **extra)  # type: ignore[arg-type]


async def test_tickets_by_source_and_outcome(sessions: SessionFactory) -> None:
    metrics = Metrics()
    intake = intake_for(sessions)
    intake.observer = metrics.ticket
    intake.rules = SurveyRules(delay=timedelta(0), skip_tags=frozenset({"spam"}))
    try:
        await intake.close_ticket(closing("T-1"))
        await intake.close_ticket(closing("T-1"))  # the helpdesk retried
        await intake.close_ticket(closing("T-2", tags=("spam",)))
        await apply_event(intake, "zendesk", closing("Z-1"))
        await apply_event(intake, "zendesk", TicketReopened("Z-1"))
        await apply_event(intake, "zendesk", TicketReopened("Z-1"))  # nothing left to cancel
        await apply_event(intake, "zendesk", Ignored("comment added"))
    finally:
        await intake.aclose()
    tickets = series(scrape(metrics), "npsbot_tickets_received_total")
    assert {labels: count for labels, count in tickets.items() if count} == {
        frozenset({("source", "api"), ("outcome", "created")}): 1,
        frozenset({("source", "api"), ("outcome", "duplicate")}): 1,
        frozenset({("source", "api"), ("outcome", "skipped")}): 1,
        frozenset({("source", "zendesk"), ("outcome", "created")}): 1,
        frozenset({("source", "zendesk"), ("outcome", "cancelled")}): 1,
        frozenset({("source", "zendesk"), ("outcome", "reopened")}): 1,
        frozenset({("source", "zendesk"), ("outcome", "ignored")}): 1,
    }


class Telegram:
    """A sender that answers each chat the way the test says."""

    def __init__(self, answers: dict[int, Exception | None]) -> None:
        self.answers = answers

    async def __call__(self, call: ClaimedCall) -> int | None:
        error = self.answers[call.chat_id]
        if error is not None:
            raise error
        return 100 + call.id


async def enqueue(sessions: SessionFactory, chat_id: int, purpose: str) -> int:
    async with sessions() as session:
        row_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=chat_id,
            payload={"text": "hi"},
            purpose=purpose,
            now=NOW,
        )
        await session.commit()
    return row_id


async def test_outbox_results_and_survey_deliveries(sessions: SessionFactory) -> None:
    metrics = Metrics()
    answers: dict[int, Exception | None] = {
        1: None,
        2: Forbidden("Forbidden: bot was blocked by the user"),
        3: BadRequest("Bad Request: chat not found"),
        4: NetworkError("Bad Gateway"),
        5: RetryAfter(3),
        6: BadRequest("Bad Request: can't parse entities"),
        7: None,
    }
    for chat_id in range(1, 7):
        await enqueue(sessions, chat_id, "survey")
    await enqueue(sessions, 7, "alert")
    dispatcher = Dispatcher(
        session_factory=sessions,
        sender=Telegram(answers),
        clock=lambda: NOW,
        observer=metrics.results_recorded,
    )
    assert await dispatcher.drain_once() == 7

    found = scrape(metrics)
    calls = series(found, "npsbot_outbox_calls_total")
    assert calls == {
        frozenset({("purpose", "survey"), ("result", "sent")}): 1,
        frozenset({("purpose", "survey"), ("result", "blocked")}): 1,
        frozenset({("purpose", "survey"), ("result", "no_chat")}): 1,
        frozenset({("purpose", "survey"), ("result", "retry")}): 1,
        frozenset({("purpose", "survey"), ("result", "deferred")}): 1,
        frozenset({("purpose", "survey"), ("result", "rejected")}): 1,
        frozenset({("purpose", "alert"), ("result", "sent")}): 1,
    }
    deliveries = {
        outcome: value(found, "npsbot_survey_deliveries_total", outcome=outcome)
        for outcome in SURVEY_OUTCOMES
    }
    # The retried and the deferred questions have not ended yet; the alert is no survey.
    assert deliveries == {
        "sent": 1,
        "unreachable": 1,
        "waiting_for_start": 1,
        "failed": 1,
        "expired": 0,
    }


async def test_a_result_is_counted_once_however_long_its_commit_takes(
    sessions: SessionFactory,
) -> None:
    metrics = Metrics()
    outage = Outage(sessions)
    dispatcher = Dispatcher(
        session_factory=outage,  # type: ignore[arg-type]
        sender=OneShotSender(on_send=lambda: setattr(outage, "down", True)),
        clock=lambda: NOW,
        observer=metrics.results_recorded,
    )

    async def nap(_seconds: float) -> None:
        if outage.failed_commits == 3:
            outage.down = False

    dispatcher._recorder.sleep = nap
    await enqueue(sessions, 9, "survey")
    await dispatcher.drain_once()
    assert outage.failed_commits == 3
    assert value(scrape(metrics), "npsbot_survey_deliveries_total", outcome="sent") == 1


async def test_a_failing_count_leaves_the_result_recorded(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_results: object) -> None:
        raise RuntimeError("a bug in counting")

    sender = OneShotSender()
    dispatcher = Dispatcher(
        session_factory=sessions, sender=sender, clock=lambda: NOW, observer=broken
    )
    row_id = await enqueue(sessions, 9, "survey")
    await dispatcher.drain_once()
    await dispatcher.drain_once()
    async with sessions() as session:
        row = await session.get(OutboxMessage, row_id)
        assert row is not None and row.status == "sent"
    assert sender.sent == [row_id]  # recorded, so never handed back and sent again
    assert "counting 1 outbox results failed" in caplog.text


def context(score: int, *, comment: str | None = None, voice: str | None = None) -> SurveyContext:
    survey = Survey(id=1, score=score, comment=comment, voice_file_id=voice)
    return SurveyContext(survey=survey, ticket=Ticket(id=1), customer=Customer(id=1))


async def test_answers_count_on_commit_and_never_on_rollback(sessions: SessionFactory) -> None:
    metrics = Metrics()
    listener = metrics.answers
    before = scrape(metrics)
    async with sessions() as session:
        await listener.scored(session, context(3), NOW)
        assert delta(before, scrape(metrics), "npsbot_answers_total", band="detractor") == 0
        await session.commit()
    async with sessions() as session:  # a handler that failed after the score: rolled back
        await listener.scored(session, context(10), NOW)
        await session.rollback()
    async with sessions() as session:
        await listener.scored(session, context(8), NOW)
        await listener.rescored(session, context(9), 8, NOW)  # the same answer, changed
        await listener.commented(session, context(9, comment="slow"), NOW)
        await listener.commented(session, context(2, voice="voice-file"), NOW)
        await listener.commented(session, context(7), NOW)
        metrics.alert_queued(session)
        await session.commit()
    after = scrape(metrics)
    assert {
        band: delta(before, after, "npsbot_answers_total", band=band)
        for band in ("detractor", "passive", "promoter")
    } == {"detractor": 1, "passive": 1, "promoter": 0}
    assert {
        kind: delta(before, after, "npsbot_surveys_completed_total", comment=kind)
        for kind in ("text", "voice", "none")
    } == {"text": 1, "voice": 1, "none": 1}
    assert delta(before, after, "npsbot_alerts_queued_total") == 1


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def add_row(sessions: SessionFactory, *, created_at: datetime, status: str) -> None:
    async with sessions() as session:
        session.add(
            OutboxMessage(
                method="sendMessage",
                chat_id=1,
                payload={"text": "hi"},
                purpose="survey",
                status=status,
                not_before=created_at,
                created_at=created_at,
            )
        )
        await session.commit()


def gauges(metrics: Metrics) -> dict[str, float]:
    found = scrape(metrics)
    depth = series(found, "npsbot_outbox_depth")
    return {dict(labels)["status"]: count for labels, count in depth.items()} | {
        "age": value(found, "npsbot_outbox_oldest_pending_age_seconds")
    }


async def test_outbox_gauges_are_read_at_scrape_time_and_cached(sessions: SessionFactory) -> None:
    metrics, clock = Metrics(), Clock()
    metrics.gauge_outbox(sessions, clock)
    await metrics.exposition()
    assert gauges(metrics) == {"pending": 0, "sending": 0, "age": 0}

    await add_row(sessions, created_at=NOW - timedelta(minutes=10), status="pending")
    await add_row(sessions, created_at=NOW - timedelta(hours=2), status="sending")
    await add_row(sessions, created_at=NOW - timedelta(days=3), status="sent")  # not waiting
    await add_row(sessions, created_at=NOW - timedelta(days=3), status="failed")
    await metrics.exposition()
    assert gauges(metrics) == {"pending": 0, "sending": 0, "age": 0}  # cached: not read again

    clock.now += timedelta(seconds=5)
    await metrics.exposition()
    assert gauges(metrics) == {"pending": 1, "sending": 1, "age": 2 * 3600 + 5}

    clock.now -= timedelta(hours=1)  # the wall clock was set back: read again, not frozen
    await add_row(sessions, created_at=NOW - timedelta(hours=3), status="pending")
    await metrics.exposition()
    assert gauges(metrics) == {"pending": 2, "sending": 1, "age": 2 * 3600 + 5}


async def test_a_failed_read_leaves_a_gap_and_the_counters(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    @asynccontextmanager
    async def broken() -> AsyncIterator[AsyncSession]:
        raise ConnectionRefusedError("password=hunter2 host=db.internal")
        yield  # pragma: no cover

    metrics = Metrics()
    metrics.outbox = OutboxGauges(broken, Clock())  # type: ignore[arg-type]
    metrics.registry.register(metrics.outbox)
    metrics.ticket("api", "created")
    text = (await metrics.exposition()).decode()
    found = samples(text)
    assert value(found, "npsbot_tickets_received_total", source="api", outcome="created") == 1
    assert series(found, "npsbot_outbox_depth") == {}
    assert "# HELP npsbot_outbox_depth" in text
    assert "ConnectionRefusedError" in caplog.text and "hunter2" not in caplog.text


async def test_every_metric_has_a_conventional_name_and_help(sessions: SessionFactory) -> None:
    metrics = Metrics()
    metrics.gauge_outbox(sessions, Clock())
    families = list(text_string_to_metric_families((await metrics.exposition()).decode()))
    ours = [family for family in families if family.name.startswith("npsbot_")]
    assert {family.name for family in ours} >= {
        "npsbot_tickets_received",
        "npsbot_survey_deliveries",
        "npsbot_outbox_calls",
        "npsbot_answers",
        "npsbot_surveys_completed",
        "npsbot_alerts_queued",
        "npsbot_telegram_requests",
        "npsbot_telegram_errors",
        "npsbot_outbox_depth",
        "npsbot_outbox_oldest_pending_age_seconds",
    }
    for family in ours:
        assert family.documentation, family.name
        assert family.type in {"counter", "gauge"}, family.name
        # No label that could hold a person, a chat or a ticket.
        for sample in family.samples:
            assert set(sample.labels) <= {"source", "outcome", "purpose", "result", "band"} | {
                "comment",
                "kind",
                "status",
                "reason",
            }, sample


async def metrics_response(token: str | None, headers: dict[str, str]) -> httpx.Response:
    app = FastAPI()
    app.include_router(ops_router(Readiness({}), Metrics(), metrics_token=token))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        return await http.get("/metrics", headers=headers)


async def test_metrics_token_is_asked_for_only_when_set() -> None:
    assert (await metrics_response(None, {})).status_code == 200
    refused = await metrics_response("s3cret", {})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    wrong = await metrics_response("s3cret", {"Authorization": "Bearer s3cre"})
    assert wrong.status_code == 401
    basic = await metrics_response("s3cret", {"Authorization": "Basic s3cret"})
    assert basic.status_code == 401
    allowed = await metrics_response("s3cret", {"Authorization": "bearer s3cret"})
    assert allowed.status_code == 200
    assert allowed.headers["content-type"].startswith("text/plain; version=")
    assert "npsbot_tickets_received_total" in allowed.text


def test_nothing_lands_in_the_global_registry() -> None:
    Metrics().ticket("api", "created")
    assert not any(family.name.startswith("npsbot_") for family in REGISTRY.collect())
