"""The process's life cycle: start and stop everything ``bot.services`` wired (nothing is built
here but what starting and stopping is: the poller, the polling lock, the server, the job
schedule and the readiness checks).

One asyncio loop runs the PTB Application (polling), the HTTP server (uvicorn), the scheduler
(APScheduler through PTB's JobQueue) and the outbox dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import timedelta
from typing import Any

import uvicorn
from apscheduler.triggers.cron import CronTrigger
from telegram import BotCommandScopeChat, Update
from telegram.error import Conflict, TelegramError
from telegram.ext import ContextTypes

from bot.chat_commands import Audience, command_menu
from bot.config import Settings, secret_value
from bot.core.clock import Clock, utc_now
from bot.cron import last_fire_time
from bot.eventloop import freeze_startup_heap
from bot.i18n import SUPPORTED_LANGUAGES, normalize_language, translator
from bot.logs import without_message
from bot.managers.digest import PostOutcome
from bot.observability.readiness import (
    Check,
    DatabaseCheck,
    PollingCheck,
    Readiness,
    TelegramCheck,
)
from bot.observability.routes import ops_router
from bot.polling import ReliablePoller
from bot.resilience import JobOutage, OutagePolicy
from bot.services import build_services, chat_handlers, intake_app, repeating_work
from bot.webhook import derive_webhook_secret, telegram_webhook_router, webhook_path
from storage import outbox
from storage.locks import PollingLock

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

MISFIRE_GRACE = timedelta(hours=12)  # APScheduler's default of 1 s would drop a late digest
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# Polling has already confirmed the update, so wait long for the database; a webhook request
# should rather fail and let Telegram deliver the update again.
POLL_PATIENCE = timedelta(minutes=15)
WEBHOOK_PATIENCE = timedelta(seconds=20)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: NpsBot decides when the process stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _log_error(update: object, context: Context) -> None:
    """Log handler failures by type and place only: updates, and so errors' messages, carry
    personal data."""
    error = context.error
    if error is None:
        logger.error("handler failed")
        return
    logger.error("handler failed: %s", without_message(error))


def _polling_error(error: TelegramError) -> None:
    """getUpdates failed and is retried. A 409 means another process polls with this token."""
    if isinstance(error, Conflict):
        logger.error(
            "Telegram reports another process polling with this bot token (409 Conflict): "
            "stop it, or run every instance in webhook mode (NPSBOT_TELEGRAM_WEBHOOK_URL)"
        )
    else:
        logger.warning("getUpdates failed (%s); retrying", type(error).__name__)


def _scheduled(
    name: str, work: Callable[[], Awaitable[object]]
) -> Callable[[Context], Coroutine[Any, Any, None]]:
    """A JobQueue callback for ``work`` that logs a database outage once, not at every run."""
    outage = JobOutage(name)

    async def job(_context: Context) -> None:
        await outage.run(work)

    return job


class NpsBot:
    """The running product: start it, and stop it, in one asyncio loop."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.services = build_services(settings, clock=clock)
        self.settings = settings
        self._server: _EmbeddedServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._polling_lock = PollingLock(self.services.engine)
        self._poller = ReliablePoller(
            self.services.application,
            allowed_updates=ALLOWED_UPDATES,
            on_error=_polling_error,
            on_dropped=self.services.metrics.update_dropped,
        )
        # Telegram is judged by the calls the process makes anyway, getMe only when idle.
        self._telegram_check = TelegramCheck(
            self.services.metrics.telegram, probe=self.services.application.bot.get_me
        )

    @property
    def http_port(self) -> int:
        """The port the HTTP server listens on (useful when configured as 0)."""
        if self._server is None or not self._server.servers:
            raise RuntimeError("the HTTP server is not running")
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Migrate, connect to Telegram, then start polling, jobs, dispatcher and HTTP."""
        services, settings = self.services, self.settings
        await services.database.migrate()
        application = services.application
        if not self.webhook_mode:
            # One poller per bot: a second would fight the first for updates (409 Conflict).
            await self._polling_lock.acquire()
            await self._release_claims_of_the_dead()
        patience = OutagePolicy(patience=WEBHOOK_PATIENCE if self.webhook_mode else POLL_PATIENCE)
        for handler in chat_handlers(services):
            handler.callback = patience.wrap(handler.callback)
            application.add_handler(handler)
        application.add_error_handler(_log_error)
        if settings.manager_chats and not settings.manager_user_ids:
            logger.warning(
                "NPSBOT_MANAGER_USER_IDS is not set: every member of the managers' chats may act "
                "on alerts, and manager commands work only in those chats"
            )
        await application.initialize()
        await self._publish_commands()
        digest_trigger = self._schedule_jobs()
        await self._catch_up_digest(digest_trigger)
        await application.start()
        if self.webhook_mode:
            await self._set_webhook()
        else:
            await self._poller.start()
        self._tasks.append(asyncio.create_task(services.dispatcher.run(), name="outbox"))
        http_app = intake_app(services)
        if settings.telegram_webhook_url:
            http_app.include_router(
                telegram_webhook_router(
                    application,
                    secret=self._webhook_secret(),
                    path=webhook_path(settings.telegram_webhook_url),
                    on_dropped=services.metrics.update_dropped,
                )
            )
        checks: dict[str, Check] = {
            "database": DatabaseCheck(services.engine),
            "telegram": self._telegram_check,
        }
        if not self.webhook_mode:
            checks["polling"] = PollingCheck(self._poller)
        readiness = Readiness(checks)
        http_app.include_router(
            ops_router(
                readiness, services.metrics, metrics_token=secret_value(settings.metrics_token)
            )
        )
        config = uvicorn.Config(
            http_app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            # No dictConfig of uvicorn's own: its loggers would print plain text past the root
            # handler, so NPSBOT_LOG_FORMAT=json would get non-JSON lines.
            log_config=None,
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

    async def _release_claims_of_the_dead(self) -> None:
        """Holding the polling lock, no other process can be sending: every claim is a dead
        process's, so hand them all back now rather than after the stale-claim timeout."""
        async with self.services.session_factory() as session:
            released = await outbox.release_stale(
                session, now=self.services.dispatcher.clock(), older_than=timedelta(0)
            )
        if released:
            logger.warning("re-queued %d outbox calls a stopped process had claimed", released)

    @property
    def webhook_mode(self) -> bool:
        """Telegram posts updates to us (several instances may run) instead of being polled."""
        return self.settings.telegram_webhook_url is not None

    def _webhook_secret(self) -> str:
        configured = secret_value(self.settings.telegram_webhook_secret)
        return configured or derive_webhook_secret(self.settings.require_token())

    async def _set_webhook(self) -> None:
        """Point Telegram at our public URL, with the secret it must send back."""
        url = self.settings.telegram_webhook_url
        assert url is not None  # noqa: S101  (webhook mode)
        await self.services.application.bot.set_webhook(
            url, secret_token=self._webhook_secret(), allowed_updates=ALLOWED_UPDATES
        )
        logger.info("webhook mode: Telegram posts updates to %s", webhook_path(url))

    async def _publish_commands(self) -> None:
        """Telegram's command menu in every language we speak (the default one for the rest).

        Not a message to anyone, so not through the outbox; a failure costs only the menu.
        """
        bot = self.services.application.bot
        default = normalize_language(self.settings.language)
        try:
            await bot.set_my_commands(command_menu(Audience.CLIENTS, translator(default)))
            for language in SUPPORTED_LANGUAGES:
                await bot.set_my_commands(
                    command_menu(Audience.CLIENTS, translator(language)), language_code=language
                )
            managers_menu = command_menu(Audience.MANAGERS, translator(default))
            for chat_id in sorted(self.settings.manager_chats):
                await bot.set_my_commands(managers_menu, scope=BotCommandScopeChat(chat_id))
        except TelegramError as error:
            logger.warning("could not set the command menu: %s", type(error).__name__)

    def _schedule_jobs(self) -> CronTrigger:
        services = self.services
        job_queue = services.application.job_queue
        assert job_queue is not None  # noqa: S101  (python-telegram-bot[job-queue] is a dependency)
        for repeating in repeating_work(services):
            job_queue.run_repeating(
                _scheduled(repeating.name, repeating.work),
                interval=self.settings.sweep_interval_seconds,
                first=0.0,
                name=repeating.name,
                job_kwargs={"misfire_grace_time": None, "coalesce": True},
            )
        trigger = CronTrigger.from_crontab(self.settings.digest_cron, timezone=self.settings.tz)
        job_queue.run_custom(
            _scheduled("weekly-digest", services.digest.post),
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
        """Stop taking updates, finish the work in flight, then close everything.

        uvicorn stops accepting first and lets requests in flight finish (a webhook update is
        handled before its request answers), then PTB and the dispatcher stop.
        """
        application = self.services.application
        if self._poller.running:
            await self._poller.stop()
        if self._server is not None:
            self._server.should_exit = True
            for task in [task for task in self._tasks if task.get_name() == "http"]:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if application.running:
            # No new job from here: PTB's JobQueue.stop waits for the jobs running, then the
            # scheduler's shutdown cancels any started in between, and a sweep cancelled
            # mid-query would leave its database call to land on a closed loop.
            job_queue = application.job_queue
            if job_queue is not None and job_queue.scheduler.running:
                job_queue.scheduler.pause()
            await application.stop()
        await self._telegram_check.aclose()
        self.services.dispatcher.stop()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await application.shutdown()
        await self._polling_lock.release()
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
            freeze_startup_heap()  # a process that runs for weeks: keep GC pauses short
            await stop.wait()
        finally:
            await self.stop()  # also after a failed start: close what was opened
