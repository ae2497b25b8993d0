"""The demo's story, played against the real ``NpsBot`` and the fake Telegram on 127.0.0.1.

A helpdesk closes tickets through the HTTP intake, every client answers in their own chat at
the same time (as they would), a manager takes and resolves one detractor's case, and the
scheduled digest is posted to the managers' chat through ``DigestService``. Nothing is
short-cut: each step goes through the same code and the same Bot API calls as in production,
so what the demo prints is what people would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

import httpx
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.app import NpsBot
from bot.config import Settings
from bot.core.callback import CasePress, Press, ScorePress, SkipPress, decode
from bot.core.nps import Category
from bot.demo.cast import (
    MANAGER_ID,
    MANAGER_NAME,
    MANAGERS_CHAT,
    MANAGERS_CHAT_TITLE,
    RESOLUTION_NOTE,
    ClientPlan,
    make_cast,
)
from bot.demo.settings import demo_settings
from bot.managers.digest import PostOutcome
from bot.sandbox import FakeBotApi, SentMessage, SimulatedClient
from storage import repo
from storage.db import make_engine, make_session_factory
from storage.locks import AlreadyRunningError
from storage.migrate import upgrade_to_head

BOT_USERNAME = "acme_nps_bot"
MAX_CLIENTS = 200
# Waits are generous: the managers' chat takes 20 messages a minute, and the bot keeps to it.
CLIENT_WAIT = 60.0
MANAGERS_WAIT = 180.0
DIGEST_PARTS = 3  # text, chart, CSV


class DemoError(RuntimeError):
    """The demo cannot run as asked (a used folder or database) or the product misbehaved."""


class ShiftedClock:
    """The wall clock moved to ``start``: the whole run falls inside one digest week."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset


def midweek(now: datetime) -> datetime:
    """Wednesday noon (UTC) of ``now``'s week, far from the Monday a digest week starts on."""
    monday = now.astimezone(UTC).date() - timedelta(days=now.astimezone(UTC).weekday())
    return datetime.combine(monday + timedelta(days=2), time(12), tzinfo=UTC)


@dataclass
class ClientRun:
    """One client's part: their survey, what they saw when it arrived and what they pressed."""

    plan: ClientPlan
    survey_id: int
    deep_link: str | None
    seen: dict[int, SentMessage] = field(default_factory=dict)  # as received, keyboard and all
    pressed: dict[int, str] = field(default_factory=dict)  # message id -> button label
    messages: list[SentMessage] = field(default_factory=list)  # the chat at the end
    alert: SentMessage | None = None  # the managers' alert about this client, at the end


@dataclass(frozen=True, slots=True)
class ManagerStep:
    """A button a manager pressed and the toast Telegram showed them."""

    button: str
    toast: str | None


@dataclass
class ManagerRun:
    """The manager who closed the loop on one detractor."""

    name: str
    case_of: ClientRun
    steps: list[ManagerStep] = field(default_factory=list)
    private_chat: list[SentMessage] = field(default_factory=list)


@dataclass
class DemoResult:
    """What happened, for the report and for tests."""

    folder: Path
    seed: int
    clients: list[ClientRun]
    managers_chat: list[SentMessage]
    manager: ManagerRun | None
    digest: list[SentMessage]  # text, chart, CSV, as the managers' chat shows them
    chart: Path
    csv: Path
    transcript: Path | None = None

    @property
    def alerts(self) -> list[SentMessage]:
        """Messages in the managers' chat that carry a case's buttons."""
        return [m for m in self.managers_chat if _button(m, lambda p: isinstance(p, CasePress))]

    @property
    def digest_text(self) -> SentMessage:
        return self.digest[0]


def _button(message: SentMessage, wanted: Callable[[Press], bool]) -> dict[str, str] | None:
    """The first inline button whose callback data decodes to a press ``wanted`` accepts."""
    for button in message.buttons():
        press = decode(button.get("callback_data"))
        if press is not None and wanted(press):
            return {"text": str(button["text"]), "data": str(button["callback_data"])}
    return None


def prepare_folder(out: Path | None, now: datetime) -> Path:
    """The folder for the chart and CSV: new or empty, so nothing of the user's is overwritten."""
    folder = out or Path.cwd() / f"npsbot-demo-{now.astimezone(UTC):%Y%m%d-%H%M%S}"
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DemoError(f"{folder} already exists and is not an empty folder: choose another --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DemoError(f"cannot create {folder}: {error.strerror}") from None
    return folder


async def require_empty_database(url: str) -> None:
    """Migrate the database and make sure it holds no surveys: the digest must be the demo's."""
    try:
        engine = make_engine(url)
    except ArgumentError:
        raise DemoError(f"{url!r} is not a database URL") from None
    shown = engine.url.render_as_string(hide_password=True)
    try:
        await upgrade_to_head(engine)
        async with make_session_factory(engine)() as session:
            used = await repo.any_survey_before(session, when=datetime.max.replace(tzinfo=UTC))
    except (SQLAlchemyError, OSError) as error:
        raise DemoError(f"cannot use the database {shown}: {type(error).__name__}") from None
    finally:
        await engine.dispose()
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


async def _close_tickets(
    http: httpx.AsyncClient, token: str, cast: tuple[ClientPlan, ...], clock: ShiftedClock
) -> list[ClientRun]:
    """What a helpdesk does when agents close tickets: one POST each, with the bearer token."""
    runs = []
    for plan in cast:
        customer: dict[str, object] = {
            "id": plan.customer_id,
            "name": plan.name,
            "language": plan.language,
        }
        if plan.company is not None:
            customer["company"] = plan.company
        if not plan.via_link:
            customer["telegram_user_id"] = plan.user_id
        body = {
            "ticket_id": plan.ticket_id,
            "closed_at": (clock() - plan.closed_ago).isoformat(),
            "customer": customer,
            "agent": plan.agent,
            "team": plan.team,
            "channel": plan.channel,
        }
        answer = await http.post(
            "/api/v1/tickets/closed", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if answer.status_code != httpx.codes.ACCEPTED:
            raise DemoError(
                f"the intake refused {plan.ticket_id}: {answer.status_code} {answer.text}"
            )
        created = answer.json()
        runs.append(ClientRun(plan, int(created["survey_id"]), created.get("deep_link")))
    return runs


async def _answer(fake: FakeBotApi, run: ClientRun) -> None:
    """One client: open the link if need be, tap the score, then comment or press Skip."""
    plan, client = run.plan, fake.client(run.plan.user_id)
    if plan.via_link:
        if not run.deep_link:
            raise DemoError(f"the intake gave no deep link for {plan.ticket_id}")
        await client.send_text(f"/start {run.deep_link.rsplit('start=', 1)[1]}")

    def survey_button(kind: type[ScorePress | SkipPress]) -> Callable[[Press], bool]:
        return lambda press: isinstance(press, kind) and press.survey_id == run.survey_id

    question = await client.wait_for_bot_message(
        lambda m: _button(m, survey_button(ScorePress)) is not None, CLIENT_WAIT
    )
    run.seen[question.message_id] = question
    run.pressed[question.message_id] = str(plan.score)
    await client.press_button(question, str(plan.score))
    prompt = await client.wait_for_bot_message(
        lambda m: _button(m, survey_button(SkipPress)) is not None, CLIENT_WAIT
    )
    run.seen[prompt.message_id] = prompt
    if plan.comment is not None:
        sent = await client.send_text(plan.comment)
        await client.wait_for_bot_message(
            lambda _m: True, CLIENT_WAIT, after_message_id=sent.message_id
        )
        return
    skip = _button(prompt, survey_button(SkipPress))
    assert skip is not None  # noqa: S101  (found by the wait above)
    run.pressed[prompt.message_id] = skip["text"]
    await client.press(prompt, skip["data"])
    await client.wait_for_bot_message(
        lambda m: (
            m.message_id == prompt.message_id and _button(m, survey_button(SkipPress)) is None
        ),
        CLIENT_WAIT,
    )


def _about(ticket_id: str) -> Callable[[SentMessage], bool]:
    pattern = re.compile(rf"(?<![\w-]){re.escape(ticket_id)}(?![\w-])")
    return lambda m: bool(pattern.search(m.content))


async def _alert_after_comment(fake: FakeBotApi, run: ClientRun) -> SentMessage:
    """The detractor's alert once it shows the comment (or that the client skipped it)."""
    about = _about(run.plan.ticket_id)
    return await fake.wait_for(
        lambda m: about(m) and m.edits >= 1 and _button(m, _case("take")) is not None,
        chat_id=MANAGERS_CHAT,
        timeout=MANAGERS_WAIT,
    )


def _case(action: str) -> Callable[[Press], bool]:
    return lambda press: isinstance(press, CasePress) and press.action == action


async def _edited(fake: FakeBotApi, message: SentMessage) -> SentMessage:
    return await fake.wait_for(
        lambda m: m.message_id == message.message_id and m.edits > message.edits,
        chat_id=message.chat_id,
        timeout=MANAGERS_WAIT,
    )


async def _reply(manager: SimulatedClient, text: str) -> SentMessage:
    sent = await manager.send_text(text)
    return await manager.wait_for_bot_message(
        lambda _m: True, CLIENT_WAIT, after_message_id=sent.message_id
    )


async def _close_the_loop(fake: FakeBotApi, run: ClientRun, alert: SentMessage) -> ManagerRun:
    """Take the case, tick "apologised", save it as resolved and write the note privately."""
    manager = fake.client(MANAGER_ID)
    result = ManagerRun(MANAGER_NAME, run)
    current = alert
    toast: dict[str, object] = {}
    for action in ("take", "resolve", "step", "done"):
        button = _button(current, _case(action))
        if button is None:
            raise DemoError(f"the alert about {run.plan.ticket_id} has no {action!r} button")
        toast = await fake.wait_for_callback_answer(
            await manager.press(current, button["data"]), timeout=CLIENT_WAIT
        )
        result.steps.append(ManagerStep(button["text"], _str_or_none(toast.get("text"))))
        current = await _edited(fake, current)
    link = _str_or_none(toast.get("url"))
    if link is None or "start=" not in link:
        raise DemoError("saving the case as resolved did not offer the note link")
    await _reply(manager, f"/start {link.rsplit('start=', 1)[1]}")  # the manager opens the link
    await _reply(manager, RESOLUTION_NOTE)
    await fake.wait_for(
        lambda m: m.message_id == alert.message_id and RESOLUTION_NOTE in m.content,
        chat_id=MANAGERS_CHAT,
        timeout=MANAGERS_WAIT,
    )
    result.private_chat = manager.messages()
    return result


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


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
        intake = f"http://127.0.0.1:{bot.http_port}"
        async with httpx.AsyncClient(base_url=intake, timeout=30.0) as http:
            say(
                f"helpdesk: closing {len(cast)} tickets through POST {intake}/api/v1/tickets/closed"
            )
            runs = await _close_tickets(http, api_token, cast, clock)
        say("clients: answering their surveys")
        await asyncio.gather(*(_answer(fake, run) for run in runs))
        detractors = [run for run in runs if run.plan.category is Category.DETRACTOR]
        alerts = await asyncio.gather(*(_alert_after_comment(fake, run) for run in detractors))
        manager = None
        if detractors:
            first = detractors[0]
            say(f"manager: {MANAGER_NAME} takes and resolves the case of {first.plan.ticket_id}")
            manager = await _close_the_loop(fake, first, alerts[0])
        say("scheduler: posting the weekly digest to the managers' chat")
        digest = await _post_digest(fake, bot, clock)
    alerts_now = [
        m
        for m in fake.bot_messages(MANAGERS_CHAT)
        if _button(m, lambda p: isinstance(p, CasePress)) is not None
    ]
    for run in runs:
        run.messages = fake.messages(run.plan.user_id)
        run.alert = next(filter(_about(run.plan.ticket_id), alerts_now), None)
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
    folder = prepare_folder(out, now)

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
                    fake, cast, database_url=url, clock=clock, say=say
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
        if not any(folder.iterdir()):  # it failed before writing anything: leave no litter
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
