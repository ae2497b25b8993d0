"""The process's Prometheus metrics, in a registry of its own.

One ``Metrics`` per ``Services``: tests that run several apps in one process, and one-shot CLI
commands beside a running bot, never share or collide in prometheus_client's global registry.
Labels take values from small fixed sets only (sources, outcomes, bands, purposes, kinds); no
chat, user, ticket or survey id ever becomes a label.

Counting on the hot paths is a dictionary look-up and a counter increment: label children are
resolved once and kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, ProcessCollector, generate_latest
from prometheus_client.metrics import disable_created_metrics
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.nps import Category
from bot.delivery.policy import Cause
from bot.delivery.purposes import Purpose
from bot.delivery.results import Fate, Result
from bot.observability.answers import COMMENT_KINDS, AnswerMetrics, on_commit
from bot.observability.backlog import OutboxGauges
from bot.observability.telegram import TelegramWatch
from bot.updates import DROP_REASONS, DropReason
from storage.db import SessionFactory

# The `_created` series would double every counter's output for a timestamp nobody graphs.
disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream

TICKET_OUTCOMES = ("created", "duplicate", "skipped", "cancelled", "reopened", "ignored")
SURVEY_OUTCOMES = ("sent", "unreachable", "waiting_for_start", "failed", "expired")
_GIVEN_UP = {
    Cause.BLOCKED: "blocked",
    Cause.NO_CHAT: "no_chat",
    Cause.REJECTED: "rejected",
    Cause.EXPIRED: "expired",
    Cause.NONE: "rejected",
}
# What a given-up question means for its survey (``SurveySweep._question_failed``).
_SURVEY_GIVEN_UP = {
    Cause.BLOCKED: "unreachable",
    Cause.NO_CHAT: "waiting_for_start",
    Cause.REJECTED: "failed",
    Cause.EXPIRED: "expired",
    Cause.NONE: "failed",
}


def result_label(result: Result) -> str:
    """An outbox result as the ``result`` label: sent, retry, deferred, or why it was given up."""
    if result.fate is Fate.SENT:
        return "sent"
    if result.fate is Fate.LATER:
        return "retry" if result.counts else "deferred"
    cause = result.decision.cause if result.decision is not None else Cause.NONE
    return _GIVEN_UP[cause]


def survey_outcome(result: Result) -> str | None:
    """What a survey question's result means for the survey; None while it is still to retry."""
    if result.fate is Fate.SENT:
        return "sent"
    if result.fate is Fate.LATER:
        return None
    cause = result.decision.cause if result.decision is not None else Cause.NONE
    return _SURVEY_GIVEN_UP[cause]


class Metrics:
    """Counters fed by the app's seams, and the outbox gauges read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        ProcessCollector(registry=registry)  # CPU, memory, open files: read at scrape time
        self._tickets = Counter(
            "npsbot_tickets_received",
            "Helpdesk events received, by source (api, cli, or the helpdesk's webhook) and "
            "outcome: created (a survey was scheduled), duplicate (a retried closing), skipped "
            "(a skip rule matched), cancelled (a reopening cancelled unsent surveys), reopened "
            "(a reopening with nothing to cancel), ignored (an event that changes nothing).",
            ["source", "outcome"],
            registry=registry,
        )
        self._survey_deliveries = Counter(
            "npsbot_survey_deliveries",
            "Survey questions whose delivery ended, by outcome: sent, unreachable (the client "
            "blocked the bot), waiting_for_start (the client has not started the bot; sent "
            "after /start), failed (Telegram refused the call), expired (Telegram failed for "
            "longer than NPSBOT_OUTBOX_GIVE_UP_HOURS; the survey waits for the next sweep).",
            ["outcome"],
            registry=registry,
        )
        self._outbox_calls = Counter(
            "npsbot_outbox_calls",
            "Outbox calls whose result was recorded, by purpose (survey, client, alert, loop, "
            "digest, ...) and result: sent, retry (a transient failure), deferred (a flood "
            "limit), or given up: blocked, no_chat, rejected, expired.",
            ["purpose", "result"],
            registry=registry,
        )
        answers = Counter(
            "npsbot_answers",
            "Scores given, by band: promoter (9-10), passive (7-8), detractor (0-6). A score "
            "changed within the change window is not counted again.",
            ["band"],
            registry=registry,
        )
        completions = Counter(
            "npsbot_surveys_completed",
            "Surveys completed after the score, by comment: text, voice, or none (Skip).",
            ["comment"],
            registry=registry,
        )
        self._alerts = Counter(
            "npsbot_alerts_queued",
            "Detractor alerts queued for the managers' chats (re-announcements not included).",
            registry=registry,
        )
        self.telegram = TelegramWatch(
            Counter(
                "npsbot_telegram_requests",
                "Bot API calls made, of every method (sends, getUpdates, getMe, ...).",
                registry=registry,
            ),
            Counter(
                "npsbot_telegram_errors",
                "Bot API calls that failed, by kind: too_many_requests (429), server_error "
                "(5xx), timeout, network, forbidden (403), chat_not_found, bad_request, "
                "conflict (409), invalid_token, chat_migrated, other.",
                ["kind"],
                registry=registry,
            ),
        )
        dropped = Counter(
            "npsbot_telegram_updates_dropped",
            "Telegram updates set aside unhandled (and confirmed, so they do not block the "
            "rest), by reason: unreadable (of Telegram's shape, but PTB cannot build it, e.g. "
            "a field from an older or newer Bot API), malformed (not of Telegram's shape).",
            ["reason"],
            registry=registry,
        )
        self._dropped_children = {reason: dropped.labels(reason=reason) for reason in DROP_REASONS}
        self.answers = AnswerMetrics(
            by_band={band: answers.labels(band=band.value) for band in Category},
            by_comment={kind: completions.labels(comment=kind) for kind in COMMENT_KINDS},
        )
        self._ticket_children: dict[tuple[str, str], Counter] = {
            ("api", outcome): self._tickets.labels(source="api", outcome=outcome)
            for outcome in TICKET_OUTCOMES
        }
        self._survey_children = {
            outcome: self._survey_deliveries.labels(outcome=outcome) for outcome in SURVEY_OUTCOMES
        }
        self._call_children: dict[tuple[str, str], Counter] = {}
        self.outbox: OutboxGauges | None = None

    def ticket(self, source: str, outcome: str) -> None:
        """A helpdesk event was recorded (``TicketIntake``'s observer)."""
        key = (source, outcome)
        child = self._ticket_children.get(key)
        if child is None:
            child = self._ticket_children[key] = self._tickets.labels(
                source=source, outcome=outcome
            )
        child.inc()

    def results_recorded(self, results: Sequence[Result]) -> None:
        """Outbox results were committed (``results.Recorder``'s observer)."""
        for result in results:
            key = (result.call.purpose, result_label(result))
            child = self._call_children.get(key)
            if child is None:
                child = self._call_children[key] = self._outbox_calls.labels(*key)
            child.inc()
            if result.call.purpose == Purpose.SURVEY:
                outcome = survey_outcome(result)
                if outcome is not None:
                    self._survey_children[outcome].inc()

    def update_dropped(self, reason: DropReason) -> None:
        """An update from Telegram was dropped (``bot.updates``)."""
        self._dropped_children[reason].inc()

    def alert_queued(self, session: AsyncSession) -> None:
        """A detractor alert was queued in ``session``'s transaction: counted on its commit."""
        on_commit(session, self._alerts.inc)

    def gauge_outbox(self, session_factory: SessionFactory, clock: Clock) -> OutboxGauges:
        """Export the outbox's depth and oldest waiting call, read from this database."""
        self.outbox = OutboxGauges(session_factory, clock)
        self.registry.register(self.outbox)
        return self.outbox

    async def exposition(self) -> bytes:
        """The Prometheus text format of everything, with the gauges read fresh (or cached)."""
        if self.outbox is not None:
            await self.outbox.refresh()
        return generate_latest(self.registry)
