"""The digest: computed from the database, posted as text, chart and CSV once per chat and period.

Also what managers ask for on demand: a digest of any period now, a short NPS summary, and an
export of the responses. Every outbound call is an outbox row, files included (base64 in the
row), so a crash between building and sending loses nothing.

``bot.report``'s computing, rendering and charting modules are imported inside the methods
that use them, not here: they bring pandas, numpy and matplotlib (about 90 MiB and most of a
second), which a running bot otherwise never needs between two digests. ``npsbot run`` imports
this module at start-up, so a top-level import would load them into every process; the types
come in under ``TYPE_CHECKING`` only. ``tests/test_startup_imports.py`` fails if they come back.
The first use imports them in a thread (``_load_report``), and compiles the theme tagger there
too, so the loop goes on answering updates meanwhile.
"""

from __future__ import annotations

import asyncio
import enum
import importlib
import io
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.groups import DEFAULT_MIN_GROUP_SIZE
from bot.core.periods import (
    Period,
    last_full_month,
    last_full_week,
    parse_period,
    period_before,
    periods_up_to,
)
from bot.delivery.dispatcher import PurposeHooks
from bot.delivery.payloads import Payload, document_payload, photo_payload
from bot.delivery.policy import Decision
from bot.delivery.purposes import Purpose
from bot.i18n import Translator, translator
from bot.report.export import ExportFormat, export_filename, export_responses
from bot.themes.tagger import Tagger
from storage import outbox, survey_queries
from storage.db import SessionFactory
from storage.locks import try_transaction_lock
from storage.models import DigestPost
from storage.outbox import ClaimedCall, Priority

if TYPE_CHECKING:  # pandas comes with it: imported where a digest is built (see above)
    from bot.report.period import WeeklyDigest

logger = logging.getLogger(__name__)

TREND_PERIODS: Final = 12
# Telegram's upload limit for bots is 50 MB; base64 in the outbox row adds a third on top.
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024


class PostOutcome(enum.StrEnum):
    """What asking for a digest post did."""

    QUEUED = "queued"
    ALREADY_POSTED = "already_posted"
    NO_CHAT = "no_chat"
    NOTHING_TO_CATCH_UP = "nothing_to_catch_up"


# What the first digest, /nps or /themes of a process imports (pandas, numpy, matplotlib).
_REPORT_MODULES = ("bot.report.period", "bot.report.render", "bot.report.chart")


def _import_report(tagger: Tagger | None) -> None:
    for name in _REPORT_MODULES:
        importlib.import_module(name)
    if tagger is not None:
        tagger.warm_up()  # the emerging words read lemmas


async def _load_report(tagger: Tagger | None) -> None:
    """Import the report's modules in a thread the first time: most of a second on the loop
    would hold up every update (the module docstring says why they are not imported here)."""
    if all(name in sys.modules for name in _REPORT_MODULES) and (tagger is None or tagger.compiled):
        return
    await asyncio.to_thread(_import_report, tagger)


@dataclass(frozen=True, slots=True)
class PostResult:
    """The outcome; ``outbox_id`` is the message's row, ``outbox_ids`` every row (text first)."""

    outcome: PostOutcome
    outbox_id: int | None = None
    outbox_ids: tuple[int, ...] = ()


class ExportTooLargeError(ValueError):
    """The export is over Telegram's upload limit: ``npsbot export`` has no such limit."""


@dataclass(frozen=True, slots=True)
class _Call:
    """One outbox call of a digest, built before the transaction that stores it."""

    method: str
    payload: Payload


@dataclass(frozen=True, slots=True)
class DigestService:
    """Builds digests, summaries and exports, and queues them for a chat."""

    engine: AsyncEngine
    session_factory: SessionFactory
    chat_id: int | None
    tz: ZoneInfo
    language: str
    clock: Clock
    wake: Callable[[], None] = lambda: None
    period_kind: Literal["week", "month"] = "week"
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    tagger: Tagger | None = None  # the taxonomy: theme names and the emerging words

    @property
    def _t(self) -> Translator:
        return translator(self.language)

    def period(self, as_of: datetime | None = None) -> Period:
        """The week or month a scheduled digest made at ``as_of`` reports on."""
        moment = as_of or self.clock()
        if self.period_kind == "month":
            return last_full_month(moment, self.tz)
        return last_full_week(moment, self.tz)

    def parse_period(self, text: str | None, *, default: str = "7d") -> Period:
        """A period a manager typed (``7d``, ``2026-10``, ``2026-W44``...); raises PeriodError."""
        return parse_period(text or default, now=self.clock(), tz=self.tz)

    async def build(self, period: Period) -> WeeklyDigest:
        """The numbers of ``period``, the period before it, and the trend up to it."""
        await _load_report(self.tagger)
        from bot.report.period import build_period_digest  # noqa: PLC0415  (pandas: module doc)

        return await build_period_digest(
            self.engine,
            period=period,
            previous=period_before(period, self.tz),
            trend=periods_up_to(period, self.tz, TREND_PERIODS),
            min_group_size=self.min_group_size,
            tagger=self.tagger,
        )

    def theme_name(self, theme_id: str) -> str:
        """A theme's name in the chat's language; its id if the taxonomy does not have it."""
        if self.tagger is None:
            return theme_id
        return self.tagger.taxonomy.name(theme_id, self.language)

    def render(self, digest: WeeklyDigest, *, html: bool) -> str:
        """Text for Telegram (HTML) or a terminal (plain)."""
        from bot.report.render import render_digest  # noqa: PLC0415  (pandas: module doc)

        return render_digest(
            digest,
            tz=self.tz,
            translator=self._t,
            language=self.language,
            html=html,
            min_group_size=self.min_group_size,
            theme_name=self.theme_name,
        )

    async def themes(self, period: Period) -> str:
        """``/themes``: what the period's comments are about and how each theme moves the score."""
        from bot.report.render import render_themes  # noqa: PLC0415  (pandas: module doc)

        digest = await self.build(period)
        return render_themes(
            digest, tz=self.tz, translator=self._t, language=self.language,
            theme_name=self.theme_name,
        )  # fmt: skip

    async def summary(self, period: Period) -> str:
        """``/nps``: NPS and its interval, answers, shares and the change since the last period."""
        from bot.report.render import render_summary  # noqa: PLC0415  (pandas: module doc)

        digest = await self.build(period)
        return render_summary(digest, tz=self.tz, translator=self._t, language=self.language)

    async def export(self, period: Period, fmt: ExportFormat) -> bytes:
        """The period's responses as a CSV or XLSX file, in memory (for a Telegram upload)."""
        buffer = io.BytesIO()
        await export_responses(self.engine, period, buffer, fmt=fmt, tz=self.tz)
        return buffer.getvalue()

    def _dates(self, period: Period) -> dict[str, str]:
        locale = self.language.replace("-", "_")
        last = (period.end - timedelta(microseconds=1)).astimezone(self.tz).date()
        return {
            "start": format_date(period.start.astimezone(self.tz).date(), "medium", locale=locale),
            "end": format_date(last, "medium", locale=locale),
        }

    def _document(self, data: bytes, period: Period, fmt: ExportFormat) -> _Call:
        caption = self._t.gettext("Responses, %(start)s – %(end)s") % self._dates(period)  # noqa: RUF001
        filename = export_filename(period, fmt, self.tz)
        return _Call("sendDocument", document_payload(data, filename, caption=caption))

    async def _calls(self, digest: WeeklyDigest) -> list[_Call]:
        """Text, then the chart and the CSV when they have something to show."""
        from bot.report.chart import render_trend_chart  # noqa: PLC0415  (matplotlib: module doc)

        calls = [
            _Call("sendMessage", {"text": self.render(digest, html=True), "parse_mode": "HTML"})
        ]
        if any(point.summary.responses for point in digest.trend):
            png = await asyncio.to_thread(
                render_trend_chart,
                digest.trend,
                tz=self.tz,
                translator=self._t,
                language=self.language,
            )
            caption = self._t.gettext("NPS by period")
            calls.append(_Call("sendPhoto", photo_payload(png, "nps.png", caption=caption)))
        if digest.responses:
            csv_data = await self.export(digest.period, "csv")
            if len(csv_data) <= MAX_UPLOAD_BYTES:
                calls.append(self._document(csv_data, digest.period, "csv"))
            else:  # Telegram would refuse it and, with it, nothing else would be lost
                logger.warning(
                    "the digest's CSV is %d MB, over Telegram's limit: posted without it "
                    "(npsbot export writes it on the server)",
                    len(csv_data) // (1024 * 1024),
                )
        return calls

    @staticmethod
    async def _enqueue(
        session: AsyncSession,
        calls: list[_Call],
        *,
        chat_id: int,
        now: datetime,
        purpose: str,
        priority: int | None = None,
    ) -> tuple[int, ...]:
        # Ids grow in this order and the dispatcher sends a chat's rows by id: text, chart, CSV.
        return tuple(
            [
                await outbox.enqueue(
                    session,
                    method=call.method,
                    chat_id=chat_id,
                    now=now,
                    payload=call.payload,
                    purpose=purpose,
                    priority=priority,
                )
                for call in calls
            ]
        )

    async def post(self, *, as_of: datetime | None = None) -> PostResult:
        """Queue the scheduled digest of the period before ``as_of`` (or now), once per chat."""
        if self.chat_id is None:
            return PostResult(PostOutcome.NO_CHAT)
        now = self.clock()
        period = self.period(as_of or now)
        async with self.session_factory() as session:
            # Several instances run the same schedule: the first to lock builds and posts, the
            # rest see the lock or the row and stop before any work (the row alone would let
            # them all build the digest only to throw it away).
            lock = f"npsbot:digest:{self.chat_id}:{period.start.isoformat()}"
            if not await try_transaction_lock(session, lock) or await self._posted(session, period):
                logger.info("digest for the period from %s was already posted", period.start.date())
                return PostResult(PostOutcome.ALREADY_POSTED)
            calls = await self._calls(await self.build(period))
            try:
                ids = await self._enqueue(
                    session, calls, chat_id=self.chat_id, now=now, purpose=Purpose.DIGEST
                )
                session.add(
                    DigestPost(
                        chat_id=self.chat_id,
                        period_start=period.start,
                        period_end=period.end,
                        outbox_id=ids[0],
                        created_at=now,
                    )
                )
                await session.commit()
            except IntegrityError:
                await session.rollback()
                logger.info("digest for the period from %s was already posted", period.start.date())
                return PostResult(PostOutcome.ALREADY_POSTED)
        self.wake()
        logger.info("digest for the period from %s queued", period.start.date())
        return PostResult(PostOutcome.QUEUED, ids[0], ids)

    async def _posted(self, session: AsyncSession, period: Period) -> bool:
        found = await session.exec(
            select(DigestPost.id)
            .where(DigestPost.chat_id == self.chat_id)
            .where(DigestPost.period_start == period.start)
        )
        return found.first() is not None

    async def send_digest(self, chat_id: int, period: Period) -> tuple[int, ...]:
        """``/digest``: queue text, chart and CSV of ``period`` to ``chat_id``; no once-guard."""
        calls = await self._calls(await self.build(period))
        async with self.session_factory() as session:
            ids = await self._enqueue(  # the answer to a command: not behind a broadcast
                session,
                calls,
                chat_id=chat_id,
                now=self.clock(),
                purpose=Purpose.DIGEST,
                priority=Priority.INTERACTIVE,
            )
            await session.commit()
        self.wake()
        return ids

    async def send_export(self, chat_id: int, period: Period, fmt: ExportFormat) -> int:
        """``/export``: queue the period's responses as a document; returns the outbox row id."""
        data = await self.export(period, fmt)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ExportTooLargeError(
                f"the export is {len(data) // (1024 * 1024)} MB, over Telegram's 50 MB limit"
            )
        call = self._document(data, period, fmt)
        async with self.session_factory() as session:
            (outbox_id,) = await self._enqueue(
                session, [call], chat_id=chat_id, now=self.clock(), purpose=Purpose.EXPORT
            )
            await session.commit()
        self.wake()
        return outbox_id

    async def catch_up(self, *, missed_run: datetime) -> PostResult:
        """Post the digest of a scheduled run the bot was down for, if there was anything to say.

        A fresh installation has no surveys before that run and posts nothing; the unique
        (chat, period) row keeps a digest that did go out from being posted again.
        """
        period = self.period(missed_run)
        async with self.session_factory() as session:
            if not await survey_queries.any_survey_before(session, when=period.end):
                return PostResult(PostOutcome.NOTHING_TO_CATCH_UP)
        return await self.post(as_of=missed_run)

    def delivery_hooks(self) -> dict[Purpose, PurposeHooks]:
        """A digest Telegram would not take does not count as posted, so it can be posted again."""
        return {Purpose.DIGEST: PurposeHooks(failed=self._failed)}

    async def _failed(
        self, session: AsyncSession, call: ClaimedCall, decision: Decision, now: datetime
    ) -> None:
        await session.exec(delete(DigestPost).where(col(DigestPost.outbox_id) == call.id))
        logger.error("the digest could not be posted (%s); it may be posted again", decision.reason)
