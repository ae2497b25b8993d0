"""Wiring: every part built from Settings, shared by the running bot and one-shot CLI commands.

Nothing here talks to the network or the database yet; ``bot.app.NpsBot`` starts things.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application, ApplicationBuilder

from bot.background import CoalescedJob
from bot.config import Settings
from bot.core import deeplink
from bot.core.cases import ManagerAccess
from bot.core.clock import Clock, utc_now
from bot.core.ratelimit import FloodGate, Limits
from bot.delivery.aiohttp_request import AiohttpRequest, CallObserver
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.telegram import BotSender
from bot.enps.answers import EnpsAnswers
from bot.enps.rounds import DIGEST_PURPOSE as ENPS_DIGEST_PURPOSE
from bot.enps.rounds import QUESTION_PURPOSE as ENPS_QUESTION_PURPOSE
from bot.enps.rounds import EnpsRounds
from bot.i18n import load_overrides, normalize_language, translator, use_overrides
from bot.intake.service import TicketIntake
from bot.managers.alert_texts import AlertTexts
from bot.managers.alerts import DetractorAlerts
from bot.managers.cases import LOOP_PURPOSE, CaseDesk
from bot.managers.commands import ManagerCommands
from bot.managers.digest import DIGEST_PURPOSE, DigestService
from bot.observability.metrics import Metrics
from bot.survey.answers import SurveyAnswers
from bot.survey.linking import ClientLinking
from bot.survey.outbound import SURVEY_PURPOSE
from bot.survey.rights import ClientRights
from bot.survey.sweep import SurveySweep
from storage.db import SessionFactory, make_engine, make_session_factory

# Opt in to PTB 23's timedelta durations (RetryAfter.retry_after, ...) now: our code handles both,
# and without it PTB warns on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")


def file_url(api_url: str) -> str:
    """PTB's base_file_url for a Bot API base URL (``.../bot`` -> ``.../file/bot``)."""
    head, _, tail = api_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}"


@dataclass(slots=True)
class Services:
    """The parts of one npsbot process."""

    settings: Settings
    engine: AsyncEngine
    session_factory: SessionFactory
    application: Application  # type: ignore[type-arg]
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

    async def close(self) -> None:
        """Finish the intake's writes and the sweep they asked for, then release connections."""
        await self.intake.aclose()
        await self.queue_due_now.aclose()
        await self.engine.dispose()


def _application(
    settings: Settings, token: str, observer: CallObserver | None = None
) -> Application:  # type: ignore[type-arg]
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
    """Wire every part from the settings."""
    token = settings.require_token()
    # Operator texts first: services below take their translators at construction.
    use_overrides(load_overrides(settings.texts_file))
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    metrics = Metrics()  # this instance's own registry
    metrics.gauge_outbox(sessions, clock)
    application = _application(settings, token, metrics.telegram)
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
        concurrency=settings.outbox_concurrency,
        clock=clock,  # the same clock stamps rows and decides when they are due
        observer=metrics.results_recorded,
    )
    language = normalize_language(settings.language)
    client_side = {
        "session_factory": sessions,
        "company": settings.company_name,
        "default_language": language,
        "wake": dispatcher.wake,
        "clock": clock,
    }
    sweep = SurveySweep(
        rules=settings.survey_rules,
        change_window=timedelta(minutes=settings.score_change_minutes),
        **client_side,  # type: ignore[arg-type]
    )
    managers_tr = translator(language)
    alerts = DetractorAlerts(
        default_chat_id=settings.manager_chat_id,
        texts=AlertTexts(managers_tr, settings.tz, settings.ticket_url_template),
        routes=tuple(settings.alert_routes),
        on_alert=metrics.alert_queued,
    )
    answers = SurveyAnswers(
        lifetime=settings.survey_rules.lifetime,
        change_window=timedelta(minutes=settings.score_change_minutes),
        review_url=settings.review_url,
        extra_questions=tuple(settings.extra_questions),
        managers_alerted=settings.manager_chat_id is not None or bool(settings.alert_routes),
        listeners=(alerts, metrics.answers),
        **client_side,  # type: ignore[arg-type]
    )
    linking = ClientLinking(
        sweep=sweep,
        link_secret=link_secret,
        **client_side,  # type: ignore[arg-type]
    )
    rights = ClientRights(**client_side)  # type: ignore[arg-type]

    def bot_username() -> str:
        return settings.bot_username or application.bot.username

    access = ManagerAccess(chats=settings.manager_chats, users=frozenset(settings.manager_user_ids))
    desk = CaseDesk(
        alerts=alerts,
        access=access,
        bot_username=bot_username,
        reannounce_every=(
            timedelta(hours=settings.alert_reannounce_hours)
            if settings.alert_reannounce_hours
            else None
        ),
        reannounce_max=settings.alert_reannounce_max,
        recovery_survey=settings.recovery_survey,
        **client_side,  # type: ignore[arg-type]
    )
    digest = DigestService(
        engine=engine,
        session_factory=sessions,
        chat_id=settings.digest_chat,
        tz=settings.tz,
        language=language,
        clock=clock,
        wake=dispatcher.wake,
        period_kind=settings.digest_period,
        min_group_size=settings.digest_min_group_size,
    )
    commands = ManagerCommands(
        session_factory=sessions,
        access=access,
        digest=digest,
        desk=desk,
        tr=managers_tr,
        wake=dispatcher.wake,
        clock=clock,
    )
    # Employee NPS: its own tables, handlers and digest; nothing of it reaches the surveys.
    enps_rounds = EnpsRounds(
        session_factory=sessions, tz=settings.tz, clock=clock, wake=dispatcher.wake
    )
    enps_answers = EnpsAnswers(
        session_factory=sessions,
        rounds=enps_rounds,
        link_secret=link_secret,
        wake=dispatcher.wake,
        clock=clock,
    )
    dispatcher.set_hooks(
        {
            SURVEY_PURPOSE: sweep.delivery_hooks(),
            DIGEST_PURPOSE: digest.delivery_hooks(),
            LOOP_PURPOSE: desk.delivery_hooks(),
            ENPS_QUESTION_PURPOSE: enps_rounds.question_hooks(),
            ENPS_DIGEST_PURPOSE: enps_rounds.digest_hooks(),
        }
    )

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
        writers=1 if engine.dialect.name == "sqlite" else 4,
        observer=metrics.ticket,
    )
    return Services(
        settings,
        engine,
        sessions,
        application,
        dispatcher,
        sweep,
        answers,
        linking,
        rights,
        digest,
        intake,
        desk,
        commands,
        queue_due_now,
        metrics,
        enps_rounds,
        enps_answers,
    )
