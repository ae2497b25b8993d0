"""Composition root: builds every part from Settings and owns the process's life cycle.

One asyncio loop runs the PTB Application (polling), the HTTP server (uvicorn), the scheduler
(APScheduler through PTB's JobQueue) and the outbox dispatcher. Only this module imports them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import uvicorn
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.config import Settings
from bot.core import deeplink
from bot.core.ratelimit import FloodGate, Limits
from bot.delivery.dispatcher import Clock, Dispatcher, utc_now
from bot.delivery.telegram import BotSender
from bot.i18n import normalize_language, translator
from bot.intake.http import create_http_app
from bot.intake.service import TicketIntake
from bot.managers.alerts import DetractorAlerts
from bot.managers.digest import DIGEST_PURPOSE, DigestService, PostOutcome
from bot.survey.handlers import SurveyHandlers
from bot.survey.service import SURVEY_PURPOSE, SurveyService
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.migrate import upgrade_to_head

logger = logging.getLogger(__name__)

# Opt in to PTB 23's timedelta durations (RetryAfter.retry_after, ...) now: our code handles both,
# and without it PTB warns on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")

Context = ContextTypes.DEFAULT_TYPE
MISFIRE_GRACE = timedelta(hours=12)  # APScheduler's default of 1 s would drop a late digest


def file_url(api_url: str) -> str:
    """PTB's base_file_url for a Bot API base URL (``.../bot`` -> ``.../file/bot``)."""
    head, _, tail = api_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}"


@dataclass(slots=True)
class Services:
    """Everything built from Settings, shared by the running bot and one-shot CLI commands."""

    settings: Settings
    engine: AsyncEngine
    session_factory: SessionFactory
    application: Application  # type: ignore[type-arg]
    dispatcher: Dispatcher
    survey: SurveyService
    digest: DigestService
    intake: TicketIntake
    link_secret: bytes

    async def close(self) -> None:
        """Release the database connections."""
        await self.engine.dispose()


def build_services(settings: Settings, *, clock: Clock = utc_now) -> Services:
    """Wire every part; nothing here talks to the network or the database yet."""
    token = settings.require_token()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings.telegram_api_url))
        # A second connection for getUpdates: PTB's last getUpdates at shutdown would otherwise
        # wait for the cancelled long poll's connection and log a pool timeout.
        .get_updates_connection_pool_size(2)
        .build()
    )
    link_secret = (
        settings.link_secret.get_secret_value().encode()
        if settings.link_secret
        else deeplink.derive_secret(token)
    )
    dispatcher = Dispatcher(
        session_factory=sessions,
        sender=BotSender(application.bot),
        gate=FloodGate(Limits(global_per_second=settings.global_rate_per_second)),
        max_age=timedelta(hours=settings.outbox_give_up_hours),
        clock=clock,  # the same clock stamps rows and decides when they are due
    )
    manager_language = normalize_language(settings.language)
    survey = SurveyService(
        session_factory=sessions,
        company=settings.company_name,
        default_language=manager_language,
        link_secret=link_secret,
        wake=dispatcher.wake,
        clock=clock,
        listeners=(DetractorAlerts(settings.manager_chat_id, translator(manager_language)),),
    )
    digest = DigestService(
        engine=engine,
        session_factory=sessions,
        chat_id=settings.manager_chat_id,
        tz=settings.tz,
        language=manager_language,
        clock=clock,
        wake=dispatcher.wake,
    )

    dispatcher.hooks = {
        SURVEY_PURPOSE: survey.delivery_hooks(),
        DIGEST_PURPOSE: digest.delivery_hooks(),
    }

    def bot_username() -> str:
        return settings.bot_username or application.bot.username

    intake = TicketIntake(
        session_factory=sessions,
        delay=settings.survey_delay,
        link_secret=link_secret,
        bot_username=bot_username,
        clock=clock,
        after_record=survey.queue_due,
    )
    return Services(
        settings, engine, sessions, application, dispatcher, survey, digest, intake, link_secret
    )


def last_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time within a week before ``now`` at which ``trigger`` fired (or None)."""
    last = None
    moment = trigger.get_next_fire_time(None, now - timedelta(days=7))
    while moment is not None and moment <= now:
        last = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return last


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: NpsBot decides when the process stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _log_error(update: object, context: Context) -> None:
    """Log handler failures by type only: updates carry personal data."""
    error = context.error
    logger.error("handler failed: %s", type(error).__name__, exc_info=error)


class NpsBot:
    """The running product: start it, and stop it, in one asyncio loop."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.services = build_services(settings, clock=clock)
        self.settings = settings
        self._server: _EmbeddedServer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def http_port(self) -> int:
        """The port the HTTP server listens on (useful when configured as 0)."""
        if self._server is None or not self._server.servers:
            raise RuntimeError("the HTTP server is not running")
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Migrate, connect to Telegram, then start polling, jobs, dispatcher and HTTP."""
        services, settings = self.services, self.settings
        await upgrade_to_head(services.engine)
        application = services.application
        for handler in SurveyHandlers(services.survey).handlers():
            application.add_handler(handler)
        application.add_error_handler(_log_error)
        await application.initialize()
        digest_trigger = self._schedule_jobs()
        await self._catch_up_digest(digest_trigger)
        await application.start()
        assert application.updater is not None  # noqa: S101  (built with an updater)
        await application.updater.start_polling(
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY]
        )
        self._tasks.append(asyncio.create_task(services.dispatcher.run(), name="outbox"))
        http_app = create_http_app(
            services.intake,
            api_token=settings.api_token.get_secret_value() if settings.api_token else None,
        )
        config = uvicorn.Config(
            http_app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = _EmbeddedServer(config)
        self._tasks.append(asyncio.create_task(self._server.serve(), name="http"))
        while not self._server.started:
            if self._tasks[-1].done():
                await self._tasks[-1]  # re-raise why the server could not start
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)
        logger.info(
            "npsbot is running as @%s; HTTP on %s:%d",
            application.bot.username,
            settings.http_host,
            self.http_port,
        )

    def _schedule_jobs(self) -> CronTrigger:
        services = self.services
        job_queue = services.application.job_queue
        assert job_queue is not None  # noqa: S101  (python-telegram-bot[job-queue] is a dependency)

        async def sweep(_context: Context) -> None:
            await services.survey.queue_due()

        async def weekly_digest(_context: Context) -> None:
            await services.digest.post()

        job_queue.run_repeating(
            sweep,
            interval=self.settings.sweep_interval_seconds,
            first=0.0,
            name="survey-sweep",
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )
        trigger = CronTrigger.from_crontab(self.settings.digest_cron, timezone=self.settings.tz)
        job_queue.run_custom(
            weekly_digest,
            job_kwargs={
                "trigger": trigger,
                "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
                "coalesce": True,
            },
            name="weekly-digest",
        )
        return trigger

    async def _catch_up_digest(self, trigger: CronTrigger) -> None:
        """Jobs live in memory, so a digest due while the bot was down would never run: post it."""
        now = self.services.digest.clock()
        missed = last_fire_time(trigger, now)
        if missed is not None:
            result = await self.services.digest.catch_up(missed_run=missed)
            if result.outcome is PostOutcome.QUEUED:
                logger.info("posting the digest that was due at %s while the bot was down", missed)

    async def stop(self) -> None:
        """Stop taking updates, finish the call in flight, then close everything."""
        application = self.services.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        self.services.dispatcher.stop()
        if self._server is not None:
            self._server.should_exit = True
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await application.shutdown()
        await self.services.close()
        logger.info("npsbot stopped")

    async def run_until_signal(self) -> None:
        """Run until SIGINT or SIGTERM, then stop gracefully."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await self.start()
            await stop.wait()
        finally:
            await self.stop()  # also after a failed start: close what was opened
