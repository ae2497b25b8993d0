"""The composition root: every part of npsbot is built here from Settings, and nowhere else.

Two layers, so a command builds only what it needs: ``storage.db.Database`` is the database
alone (engine, sessions, migrations; no token, no Telegram) for migrate, purge, import,
campaigns, export and ``digest --print`` (with ``digest_service`` for the last two);
``build_services`` puts every service on top of one for ``run``, ``ticket-closed`` and
``digest --now``. What only the running bot needs besides (its chat handlers, its HTTP intake,
the work of its scheduled jobs) is built here too, by ``chat_handlers``, ``intake_app`` and
``repeating_work``; ``bot.app.NpsBot`` only starts and stops it. Nothing here talks to the
network or the database yet.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
)

from bot.background import CoalescedJob
from bot.chat_commands import ChatHandlers, command_handlers
from bot.config import Settings, secret_value
from bot.core.cases import ManagerAccess
from bot.core.clock import Clock, utc_now
from bot.core.ratelimit import FloodGate, Limits
from bot.delivery.aiohttp_request import AiohttpRequest, CallObserver
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.purposes import hooks_of
from bot.delivery.telegram import BotSender
from bot.enps.answers import EnpsAnswers
from bot.enps.handlers import EnpsHandlers
from bot.enps.rounds import EnpsRounds
from bot.i18n import load_overrides, normalize_language, translator, use_overrides
from bot.intake.adapters import build_adapters, helpdesk_names
from bot.intake.http import create_http_app
from bot.intake.service import TicketIntake
from bot.managers.alert_texts import AlertTexts
from bot.managers.alerts import DetractorAlerts
from bot.managers.cases import CaseDesk
from bot.managers.digest import DigestService
from bot.managers.handlers import ManagerHandlers
from bot.managers.reports import ManagerCommands
from bot.observability.metrics import Metrics
from bot.survey.answers import SurveyAnswers
from bot.survey.client_commands import ClientRights
from bot.survey.handlers import SurveyHandlers
from bot.survey.linking import ClientLinking
from bot.survey.sweep import SurveySweep
from bot.themes.tagger import Tagger, WarmUpOnFirstScore
from bot.themes.taxonomy import load_taxonomy
from storage.db import Database, SessionFactory

# Opt in to PTB 23's timedelta durations (RetryAfter.retry_after, ...) now: our code handles both,
# and without it PTB warns on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")


def file_url(api_url: str) -> str:
    """PTB's base_file_url for a Bot API base URL (``.../bot`` -> ``.../file/bot``)."""
    head, _, tail = api_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}"


Context = ContextTypes.DEFAULT_TYPE
ChatHandler = BaseHandler[Update, Context, None]
# What ``ApplicationBuilder().build()`` makes: PTB's default bot, context and JobQueue types.
BotApplication = Application[
    ExtBot[None], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[Context]
]


def digest_service(
    settings: Settings,
    database: Database,
    *,
    clock: Clock = utc_now,
    wake: Callable[[], None] = lambda: None,
    tagger: Tagger | None = None,
) -> DigestService:
    """The digest from the settings: the bot's, and the one ``digest --print`` and ``export`` use
    without a token (nothing is sent, so nothing needs waking). Without ``tagger`` it reads
    ``NPSBOT_THEMES_FILE`` itself."""
    return DigestService(
        engine=database.engine,
        session_factory=database.sessions,
        chat_id=settings.digest_chat,
        tz=settings.tz,
        language=normalize_language(settings.language),
        clock=clock,
        wake=wake,
        period_kind=settings.digest_period,
        min_group_size=settings.digest_min_group_size,
        tagger=tagger or Tagger(load_taxonomy(settings.themes_file)),
    )


@dataclass(slots=True)
class Services:
    """The parts of one npsbot process, on one database."""

    settings: Settings
    database: Database
    application: BotApplication
    dispatcher: Dispatcher
    sweep: SurveySweep
    answers: SurveyAnswers
    linking: ClientLinking
    rights: ClientRights
    digest: DigestService
    intake: TicketIntake
    desk: CaseDesk
    commands: ManagerCommands
    queue_due_now: CoalescedJob
    metrics: Metrics
    enps_rounds: EnpsRounds
    enps_answers: EnpsAnswers
    tagger: Tagger

    @property
    def engine(self) -> AsyncEngine:
        """The database's engine (health checks, locks and reports take it)."""
        return self.database.engine

    @property
    def session_factory(self) -> SessionFactory:
        """The database's sessions."""
        return self.database.sessions

    async def close(self) -> None:
        """Finish the intake's writes and the sweep they asked for, then release connections."""
        await self.intake.aclose()
        await self.queue_due_now.aclose()
        await self.database.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def _application(
    settings: Settings, token: str, observer: CallObserver | None = None
) -> BotApplication:
    timeout = settings.telegram_timeout_seconds
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings.telegram_api_url))
        .request(AiohttpRequest(read_timeout=timeout, observer=observer))
        # A second connection for getUpdates: the last getUpdates at shutdown (which confirms
        # the updates handled) must not wait for the cancelled long poll's connection.
        .get_updates_request(
            AiohttpRequest(connection_pool_size=2, read_timeout=timeout, observer=observer)
        )
        .updater(None)  # bot.polling confirms updates only once handled; webhooks need none
        .build()
    )


def build_services(settings: Settings, *, clock: Clock = utc_now) -> Services:
    """Wire every part from the settings, on a database of their own: ``Services.close``
    disposes it."""
    token = settings.require_token()
    # Operator texts first: services below take their translators at construction.
    use_overrides(load_overrides(settings.texts_file))
    tagger = Tagger(load_taxonomy(settings.themes_file))  # a wrong themes file stops start-up
    database = Database.open(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    sessions = database.sessions
    metrics = Metrics()  # this instance's own registry
    metrics.gauge_outbox(sessions, clock)
    application = _application(settings, token, metrics.telegram)
    link_secret = settings.require_link_secret()
    dispatcher = Dispatcher(
        session_factory=sessions,
        sender=BotSender(application.bot),
        gate=FloodGate(Limits(global_per_second=settings.global_rate_per_second)),
        max_age=timedelta(hours=settings.outbox_give_up_hours),
        concurrency=settings.outbox_concurrency,
        clock=clock,  # the same clock stamps rows and decides when they are due
        observer=metrics.results_recorded,
    )
    language = normalize_language(settings.language)
    company = settings.company_name
    wake = dispatcher.wake
    sweep = SurveySweep(
        session_factory=sessions,
        rules=settings.survey_rules,
        company=company,
        default_language=language,
        wake=wake,
        clock=clock,
        change_window=timedelta(minutes=settings.score_change_minutes),
    )
    managers_tr = translator(language)
    alerts = DetractorAlerts(
        default_chat_id=settings.manager_chat_id,
        texts=AlertTexts(managers_tr, settings.tz, settings.ticket_url_template, helpdesk_names()),
        routes=tuple(settings.alert_routes),
        on_alert=metrics.alert_queued,
    )
    answers = SurveyAnswers(
        session_factory=sessions,
        company=company,
        default_language=language,
        wake=wake,
        clock=clock,
        lifetime=settings.survey_rules.lifetime,
        change_window=timedelta(minutes=settings.score_change_minutes),
        review_url=settings.review_url,
        extra_questions=tuple(settings.extra_questions),
        managers_alerted=settings.manager_chat_id is not None or bool(settings.alert_routes),
        # The Russian dictionaries load when the first score comes, not at start (see Tagger).
        listeners=(alerts, metrics.answers, WarmUpOnFirstScore(tagger)),
        tagger=tagger,
    )
    linking = ClientLinking(
        session_factory=sessions,
        sweep=sweep,
        link_secret=link_secret,
        company=company,
        default_language=language,
        wake=wake,
        clock=clock,
    )
    rights = ClientRights(
        session_factory=sessions,
        company=company,
        default_language=language,
        wake=wake,
        clock=clock,
    )

    def bot_username() -> str:
        return settings.bot_username or application.bot.username

    access = ManagerAccess(chats=settings.manager_chats, users=frozenset(settings.manager_user_ids))
    desk = CaseDesk(
        session_factory=sessions,
        alerts=alerts,
        access=access,
        company=company,
        default_language=language,
        wake=wake,
        clock=clock,
        bot_username=bot_username,
        reannounce_every=(
            timedelta(hours=settings.alert_reannounce_hours)
            if settings.alert_reannounce_hours
            else None
        ),
        reannounce_max=settings.alert_reannounce_max,
        recovery_survey=settings.recovery_survey,
    )
    digest = digest_service(settings, database, clock=clock, wake=wake, tagger=tagger)
    commands = ManagerCommands(
        session_factory=sessions,
        access=access,
        digest=digest,
        desk=desk,
        tr=managers_tr,
        wake=wake,
        clock=clock,
    )
    # Employee NPS: its own tables, handlers and digest; nothing of it reaches the surveys.
    enps_rounds = EnpsRounds(session_factory=sessions, tz=settings.tz, clock=clock, wake=wake)
    enps_answers = EnpsAnswers(
        session_factory=sessions,
        rounds=enps_rounds,
        link_secret=link_secret,
        wake=wake,
        clock=clock,
    )
    dispatcher.set_hooks(hooks_of(sweep, digest, desk, enps_rounds))

    queue_due_now = CoalescedJob(sweep.queue_due, name="queue-due-surveys")
    intake = TicketIntake(
        session_factory=sessions,
        rules=settings.survey_rules,
        link_secret=link_secret,
        link_ttl=timedelta(days=settings.link_ttl_days),
        bot_username=bot_username,
        clock=clock,
        phone_region=settings.phone_region,
        due_now=queue_due_now.kick,
        writers=1 if database.engine.dialect.name == "sqlite" else 4,
        observer=metrics.ticket,
    )
    return Services(
        settings=settings,
        database=database,
        application=application,
        dispatcher=dispatcher,
        sweep=sweep,
        answers=answers,
        linking=linking,
        rights=rights,
        digest=digest,
        intake=intake,
        desk=desk,
        commands=commands,
        queue_due_now=queue_due_now,
        metrics=metrics,
        enps_rounds=enps_rounds,
        enps_answers=enps_answers,
        tagger=tagger,
    )


def feature_handlers(services: Services) -> ChatHandlers:
    """Each feature's PTB handlers, with the clients' private texts passing the managers' and the
    members' hooks first (manager prompt, relay reply, eNPS comment) and the relay to the
    manager last."""

    managers = ManagerHandlers(services.desk, services.commands)
    employees = EnpsHandlers(services.enps_answers)
    clients = SurveyHandlers(
        services.answers,
        services.linking,
        services.rights,
        before_comment=(managers.manager_text, managers.client_reply, employees.comment),
        after_comment=(managers.client_text,),
    )
    return ChatHandlers(managers, employees, clients)


def chat_handlers(services: Services) -> list[ChatHandler]:
    """The commands' table first (its rows of one name in order), then the managers' and the
    members' buttons before the clients' catch-all."""
    features = feature_handlers(services)
    return [
        *command_handlers(features),
        *features.managers.handlers(),
        *features.members.handlers(),
        *features.clients.handlers(),
    ]


def intake_app(services: Services) -> FastAPI:
    """The HTTP intake with every configured helpdesk adapter; the bot adds its own routes."""
    settings = services.settings
    return create_http_app(
        services.intake,
        api_token=secret_value(settings.api_token),
        adapters=build_adapters(settings, clock=services.intake.clock),
        generic_webhook_secret=secret_value(settings.generic_webhook_secret),
        webhook_max_skew=timedelta(seconds=settings.webhook_max_skew_seconds),
        max_body_bytes=settings.http_max_body_bytes,
    )


@dataclass(frozen=True, slots=True)
class RepeatingWork:
    """A job the bot runs every sweep interval, by its name (in logs and the JobQueue)."""

    name: str
    work: Callable[[], Awaitable[object]]


def repeating_work(services: Services) -> tuple[RepeatingWork, ...]:
    """Both run from the start, in jobs of their own so one running long never holds back the
    other. Campaign schedules are read from the database at each tick, so a campaign created
    from the shell needs no restart, and the first tick catches up what was due while the bot
    was down."""

    async def sweep() -> None:
        await services.sweep.run()
        await services.desk.reannounce()

    return (
        RepeatingWork("survey-sweep", sweep),
        RepeatingWork("enps-rounds", services.enps_rounds.tick),
    )
