"""The demo's story, played against the real ``NpsBot`` and the fake Telegram on 127.0.0.1.

A helpdesk closes tickets through the HTTP intake, every client answers in their own chat at
the same time (as they would), a manager takes and resolves one detractor's case, and the
scheduled digest is posted to the managers' chat through ``DigestService``. Nothing is
short-cut: each step goes through the same code and the same Bot API calls as in production,
so what the demo prints is what people would see.

The people's parts are in ``bot.demo.actors``; what happened is returned as ``DemoResult``.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

import httpx
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.app import NpsBot
from bot.config import Settings
from bot.core.callback import CasePress
from bot.core.clock import ShiftedClock
from bot.core.nps import Category
from bot.demo.actors import (
    MANAGERS_WAIT,
    about,
    alert_after_comment,
    answer_survey,
    close_the_loop,
    close_tickets,
)
from bot.demo.cast import (
    MANAGER_ID,
    MANAGER_NAME,
    MANAGERS_CHAT,
    MANAGERS_CHAT_TITLE,
    ClientPlan,
    make_cast,
)
from bot.demo.history import PAST_WEEKS, import_history, past_answers
from bot.demo.results import (
    ClientRun,
    DemoError,
    DemoResult,
    ManagerRun,
    find_button,
)
from bot.demo.settings import demo_settings
from bot.managers.digest import PostOutcome
from bot.sandbox import FakeBotApi, SentMessage
from storage import survey_queries
from storage.db import Database, DatabaseUrlError
from storage.locks import AlreadyRunningError
from storage.migrate import UnknownRevisionError

BOT_USERNAME = "acme_nps_bot"
MAX_CLIENTS = 200
DIGEST_PARTS = 3  # text, chart, CSV


def midweek(now: datetime) -> datetime:
    """Wednesday noon (UTC) of ``now``'s week, far from the Monday a digest week starts on."""
    monday = now.astimezone(UTC).date() - timedelta(days=now.astimezone(UTC).weekday())
    return datetime.combine(monday + timedelta(days=2), time(12), tzinfo=UTC)


def prepare_folder(out: Path | None, now: datetime) -> tuple[Path, bool]:
    """The folder for the chart and CSV: new or empty, so nothing of the user's is overwritten;
    and whether the demo made it (only then may a failed run remove it again)."""
    folder = out or Path.cwd() / f"npsbot-demo-{now.astimezone(UTC):%Y%m%d-%H%M%S}"
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DemoError(f"{folder} already exists and is not an empty folder: choose another --out")
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DemoError(f"cannot create {folder}: {error.strerror}") from None
    return folder, made


async def require_empty_database(url: str) -> None:
    """Migrate the database and make sure it holds no surveys: the digest must be the demo's."""
    try:
        database = Database.open(url)
    except DatabaseUrlError as error:
        raise DemoError(str(error)) from None
    except ArgumentError:
        raise DemoError(f"{url!r} is not a database URL") from None
    shown = database.engine.url.render_as_string(hide_password=True)
    async with database:
        try:
            await database.migrate()
            async with database.sessions() as session:
                used = await survey_queries.any_survey_before(
                    session, when=datetime.max.replace(tzinfo=UTC)
                )
        except (SQLAlchemyError, OSError) as error:
            raise DemoError(f"cannot use the database {shown}: {type(error).__name__}") from None
        except UnknownRevisionError as error:
            raise DemoError(f"cannot use the database {shown}: {error}") from None
    if used:
        raise DemoError(f"{shown} already holds surveys: give the demo an empty database")


@contextlib.asynccontextmanager
async def _running(settings: Settings, clock: ShiftedClock) -> AsyncIterator[NpsBot]:
    bot = NpsBot(settings, clock=clock)
    try:
        await bot.start()
        yield bot
    finally:
        await bot.stop()


async def _post_digest(fake: FakeBotApi, bot: NpsBot, clock: ShiftedClock) -> list[SentMessage]:
    """The digest the scheduler would post next: text, chart and CSV in the managers' chat."""
    settings = bot.settings
    trigger = CronTrigger.from_crontab(settings.digest_cron, timezone=settings.tz)
    next_run = trigger.get_next_fire_time(None, clock())
    before = max((m.message_id for m in fake.messages(MANAGERS_CHAT)), default=0)
    posted = await bot.services.digest.post(as_of=next_run)
    if posted.outcome is not PostOutcome.QUEUED or len(posted.outbox_ids) != DIGEST_PARTS:
        raise DemoError(f"the digest was not posted with its chart and CSV ({posted.outcome})")
    await fake.wait_for(
        lambda m: m.document_name is not None,
        chat_id=MANAGERS_CHAT,
        timeout=MANAGERS_WAIT,
        after_message_id=before,
    )
    return [m for m in fake.bot_messages(MANAGERS_CHAT) if m.message_id > before]


async def _play(
    fake: FakeBotApi,
    cast: tuple[ClientPlan, ...],
    *,
    database_url: str,
    clock: ShiftedClock,
    seed: int,
    say: Callable[[str], None],
) -> tuple[list[ClientRun], ManagerRun | None, list[SentMessage]]:
    fake.add_group(MANAGERS_CHAT, MANAGERS_CHAT_TITLE)
    fake.client(MANAGER_ID, MANAGER_NAME)
    fake.add_member(MANAGERS_CHAT, MANAGER_ID)
    for plan in cast:  # clients whose id the helpdesk knows have started the bot before
        fake.client(plan.user_id, plan.name.split()[0], language_code=plan.language)
    api_token = secrets.token_urlsafe(24)
    settings = demo_settings(fake, database_url=database_url, api_token=api_token)
    async with _running(settings, clock) as bot:
        say(f"npsbot is running as @{bot.services.application.bot.username}")
        now = clock()
        week_start = datetime.combine(now.date() - timedelta(days=now.weekday()), time(0), UTC)
        imported = await import_history(bot.services.engine, past_answers(seed, week_start), now)
        say(f"history: {imported} answers of the {PAST_WEEKS} weeks before, imported (no messages)")
        intake = f"http://127.0.0.1:{bot.http_port}"
        async with httpx.AsyncClient(base_url=intake, timeout=30.0) as http:
            say(
                f"helpdesk: closing {len(cast)} tickets through POST {intake}/api/v1/tickets/closed"
            )
            runs = await close_tickets(http, api_token, cast, clock)
        say("clients: answering their surveys")
        await asyncio.gather(*(answer_survey(fake, run) for run in runs))
        detractors = [run for run in runs if run.plan.category is Category.DETRACTOR]
        alerts = await asyncio.gather(*(alert_after_comment(fake, run) for run in detractors))
        manager = None
        if detractors:
            first = detractors[0]
            say(f"manager: {MANAGER_NAME} takes and resolves the case of {first.plan.ticket_id}")
            manager = await close_the_loop(fake, first, alerts[0])
        say("scheduler: posting the weekly digest to the managers' chat")
        digest = await _post_digest(fake, bot, clock)
    alerts_now = [
        m
        for m in fake.bot_messages(MANAGERS_CHAT)
        if find_button(m, lambda p: isinstance(p, CasePress)) is not None
    ]
    for run in runs:
        run.messages = fake.messages(run.plan.user_id)
        run.alert = next(filter(about(run.plan.ticket_id), alerts_now), None)
    return runs, manager, digest


async def run_demo(
    *,
    stream: TextIO,
    clients: int = 30,
    seed: int = 1,
    out: Path | None = None,
    database_url: str | None = None,
    start: datetime | None = None,
) -> DemoResult:
    """Run the whole story and write the chart and CSV the managers got into a new folder.

    ``start`` pins the moment the story happens (default: this week's Wednesday noon, UTC).
    Progress goes to ``stream`` as the story unfolds; the report is ``bot.demo.output``'s job.
    """
    if not 1 <= clients <= MAX_CLIENTS:
        raise DemoError(f"--clients must be between 1 and {MAX_CLIENTS}")
    cast = make_cast(clients, seed)
    now = datetime.now(UTC)
    folder, made = prepare_folder(out, now)

    def say(line: str) -> None:
        stream.write(f"· {line}\n")
        stream.flush()

    try:
        with tempfile.TemporaryDirectory(prefix="npsbot-demo-") as scratch:
            url = database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'demo.db'}"
            await require_empty_database(url)
            clock = ShiftedClock(start or midweek(now))
            async with FakeBotApi(bot_username=BOT_USERNAME) as fake:
                say(f"fake Telegram Bot API on {fake.url}")
                runs, manager, digest = await _play(
                    fake, cast, database_url=url, clock=clock, seed=seed, say=say
                )
                managers_chat = fake.bot_messages(MANAGERS_CHAT)
        return _save(
            folder, seed, runs, managers_chat=managers_chat, manager=manager, digest=digest
        )
    except AlreadyRunningError as error:
        raise DemoError(str(error)) from None
    except TimeoutError as error:  # the product did not do what the story expects: say what
        raise DemoError(f"the bot did not answer as expected: {error}") from None
    finally:
        if made and not any(folder.iterdir()):  # failed before writing anything: no litter
            folder.rmdir()


def _save(
    folder: Path,
    seed: int,
    runs: list[ClientRun],
    *,
    managers_chat: list[SentMessage],
    manager: ManagerRun | None,
    digest: list[SentMessage],
) -> DemoResult:
    """Write the chart and the CSV exactly as the fake Telegram received them."""
    photo = next((m for m in digest if m.has_photo and m.file_bytes), None)
    document = next((m for m in digest if m.document_name and m.file_bytes), None)
    if photo is None or document is None or photo.file_bytes is None:
        raise DemoError("the digest reached the managers without its chart or CSV")
    csv_path = folder / Path(document.document_name or "responses.csv").name
    chart_path = csv_path.with_suffix(".png")
    chart_path.write_bytes(photo.file_bytes)
    csv_path.write_bytes(document.file_bytes or b"")
    return DemoResult(folder, seed, runs, managers_chat, manager, digest, chart_path, csv_path)
