"""What the CLI commands do, as async functions the tests can call directly.

Each builds only what it needs, from the two layers ``bot.services`` describes, and releases it
on the way out (``async with``): the database alone (``storage.db.Database``) where no message
is sent, so no token is needed; every service (``build_services``) where one is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.app import NpsBot
from bot.config import Settings
from bot.core.tickets import TicketClosed
from bot.managers.digest import PostOutcome
from bot.report.export import ExportFormat, count_responses, export_filename, export_responses
from bot.services import build_services, digest_service
from storage.db import Database

DELIVERY_TIMEOUT = 60.0

# Given the total row count, returns what to call with each chunk's size.
ExportProgress = Callable[[int], Callable[[int], None]]


def safe_url(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


async def run(settings: Settings) -> None:
    """``npsbot run``."""
    await NpsBot(settings).run_until_signal()


async def migrate(settings: Settings) -> None:
    """``npsbot migrate``."""
    async with Database.open(settings.database_url) as database:
        await database.migrate()


async def ticket_closed(settings: Settings, event: TicketClosed) -> dict[str, object]:
    """``npsbot ticket-closed``: the intake without HTTP; the running bot sends the survey."""
    async with build_services(settings) as services:
        await services.database.migrate()
        if not settings.bot_username:
            async with services.application.bot:  # getMe tells the username for the deep link
                pass
        result = await services.intake.close_ticket(event, source="cli")
    return {
        "survey_id": result.survey_id,
        "ticket_id": result.ticket_id,
        "status": str(result.status),
        "created": result.created,
        "deep_link": result.deep_link,
        "skip_reason": result.skip_reason,
    }


async def print_digest(settings: Settings, period: str | None = None) -> str:
    """``npsbot digest --print [--period P]``: the same numbers as plain text; needs no token.

    Without ``period`` it is the scheduled digest's period (last full week or month).
    """
    async with Database.open(settings.database_url) as database:
        await database.migrate()
        service = digest_service(settings, database)
        chosen = service.period() if period is None else service.parse_period(period)
        return service.render(await service.build(chosen), html=False)


async def export(
    settings: Settings,
    *,
    period: str,
    fmt: ExportFormat,
    out: Path | None,
    progress: ExportProgress,
) -> tuple[Path, int]:
    """``npsbot export``: write the period's responses to a file; returns its path and rows.

    ``progress`` is told the row count first, then called with each chunk's size, so the CLI can
    draw a bar without this function knowing about terminals. A period that cannot be parsed
    raises ``PeriodError`` before anything is written.
    """
    async with Database.open(settings.database_url) as database:
        await database.migrate()
        service = digest_service(settings, database)
        chosen = service.parse_period(period)
        path = out or Path(export_filename(chosen, fmt, settings.tz))
        advance = progress(await count_responses(database.engine, chosen))
        # Written beside the target and renamed at the end, so a failure half-way never leaves
        # a truncated file (or clobbers last week's export) under the name the operator asked for.
        partial = path.with_name(f".{path.name}.partial")
        try:
            with partial.open("wb") as file:
                written = await export_responses(
                    database.engine, chosen, file, fmt=fmt, tz=settings.tz, progress=advance
                )
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return path, written


async def post_digest(settings: Settings) -> str:
    """``npsbot digest --now``: queue the digest, then deliver the outbox until it is out.

    A running bot would deliver it too; the outbox claim makes sure only one of them sends it.
    """
    async with build_services(settings) as services:
        await services.database.migrate()
        result = await services.digest.post()
        if result.outcome is PostOutcome.ALREADY_POSTED:
            return "this period's digest was already posted to this chat"
        if result.outcome is PostOutcome.NO_CHAT or not result.outbox_ids:
            return "NPSBOT_MANAGER_CHAT_ID is not set: nowhere to post"
        async with services.application.bot:
            left = await services.dispatcher.deliver(result.outbox_ids, within=DELIVERY_TIMEOUT)
        return "digest posted" if left == 0 else "digest queued; the running bot will post it"
