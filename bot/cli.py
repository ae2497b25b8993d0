"""The ``npsbot`` command: parses arguments and calls into the app; no logic lives here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from telegram.error import InvalidToken, NetworkError

from bot import commands, eventloop
from bot.config import MissingSettingError, Settings, load_settings
from bot.core.periods import PERIOD_HELP, PeriodError
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.enps import cli as enps_cli
from bot.i18n import OverrideError
from bot.logs import configure_logging
from bot.report.export import FORMATS
from storage.locks import AlreadyRunningError

app = typer.Typer(
    help="npsbot: NPS surveys in Telegram after every closed support ticket.",
    no_args_is_help=True,
    # Rich tracebacks would print local variables, tokens and personal data included.
    pretty_exceptions_enable=False,
)

app.add_typer(enps_cli.app, name="campaign")


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ValidationError as error:  # name the variable and the problem, no traceback
        problems = "; ".join(
            f"NPSBOT_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise _fail(f"invalid settings: {problems}") from None
    configure_logging(settings.log_level)
    return settings


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


@app.command()
def run() -> None:
    """Run the bot: Telegram polling, HTTP intake, scheduler and outbox (Ctrl+C stops)."""
    try:
        eventloop.run(commands.run(_settings()))
    except (MissingSettingError, OverrideError, AlreadyRunningError) as error:
        raise _fail(str(error)) from None
    except InvalidToken:
        raise _fail(
            "Telegram rejected NPSBOT_TELEGRAM_TOKEN: check the token from @BotFather"
        ) from None
    except NetworkError as error:
        raise _fail(
            f"cannot reach the Telegram Bot API ({error.message}); "
            "check the network and NPSBOT_TELEGRAM_API_URL"
        ) from None


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (``run`` does this too)."""
    settings = _settings()
    asyncio.run(commands.migrate(settings))
    typer.echo(f"database is at the newest schema: {commands.safe_url(settings.database_url)}")


@app.command("ticket-closed")
def ticket_closed(
    ticket_id: Annotated[str, typer.Option(help="The helpdesk's ticket id")],
    customer_id: Annotated[str, typer.Option(help="The helpdesk's customer id")],
    closed_at: Annotated[
        datetime | None, typer.Option(help="When it closed (default: now, UTC)")
    ] = None,
    telegram_user_id: Annotated[int | None, typer.Option(help="Client's Telegram user id")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
    language: Annotated[str | None, typer.Option()] = None,
    company: Annotated[str | None, typer.Option()] = None,
    agent: Annotated[str | None, typer.Option()] = None,
    team: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A ticket tag (repeatable)")] = None,
) -> None:
    """Record a closed ticket as the intake would, and print its survey and deep link as JSON."""
    when = closed_at or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    event = TicketClosed(
        ticket_id=ticket_id,
        closed_at=when,
        customer=CustomerInfo(
            helpdesk_id=customer_id,
            telegram_user_id=telegram_user_id,
            phone=phone,
            name=name,
            language=language,
            company=company,
        ),
        agent=agent,
        team=team,
        channel=channel,
        tags=tuple(tag or ()),
    )
    try:
        result = asyncio.run(commands.ticket_closed(_settings(), event))
    except MissingSettingError as error:
        raise _fail(str(error)) from None
    typer.echo(json.dumps(result, ensure_ascii=False))


@app.command()
def digest(
    now: Annotated[
        bool, typer.Option("--now", help="Post the last full period's digest to the digest chat")
    ] = False,
    print_: Annotated[bool, typer.Option("--print", help="Print the digest here")] = False,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help=f"With --print: the period to report on; {PERIOD_HELP}",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show or post the digest of the last full week or month (posted to a chat only once)."""
    if not (now or print_):
        raise _fail("say --print, --now or both")
    if period is not None and not print_:
        raise _fail("--period works with --print; --now posts the last full period")
    settings = _settings()
    try:
        if print_:
            typer.echo(asyncio.run(commands.print_digest(settings, period)))
        if now:
            typer.echo(asyncio.run(commands.post_digest(settings)))
    except (MissingSettingError, PeriodError) as error:
        raise _fail(str(error)) from None


# Below this many rows an export is over before a bar would be worth drawing.
PROGRESS_BAR_ROWS = 5000


@app.command()
def export(
    period: Annotated[
        str, typer.Option("--period", help=f"The responses of this period; {PERIOD_HELP}")
    ] = "7d",
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: nps-FIRST_LAST.FORMAT here)"),
    ] = None,
) -> None:
    """Export the responses of a period (one row per answered survey) to CSV or XLSX."""
    if fmt not in FORMATS:
        raise _fail(f"unknown format {fmt!r}: use csv or xlsx")
    settings = _settings()
    with contextlib.ExitStack() as stack:

        def progress(total: int) -> Callable[[int], None]:
            if total < PROGRESS_BAR_ROWS:
                return lambda _rows: None
            bar = stack.enter_context(
                typer.progressbar(length=total, label="Exporting", file=sys.stderr)
            )
            return bar.update

        try:
            path, rows = asyncio.run(
                commands.export(
                    settings,
                    period=period,
                    fmt=fmt,
                    out=out,
                    progress=progress,
                )
            )
        except PeriodError as error:
            raise _fail(str(error)) from None
        except OSError as error:
            raise _fail(f"cannot write {out}: {error.strerror}") from None
    typer.echo(f"{rows} responses written to {path}")


def main() -> None:
    """Entry point of the ``npsbot`` script."""
    app()
