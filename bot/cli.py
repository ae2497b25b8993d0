"""The ``npsbot`` command: parses arguments and calls into the app; no logic lives here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import InvalidToken, NetworkError

from bot import cli_commands, eventloop
from bot.config import MissingSettingError, Settings, load_settings
from bot.core.clock import utc_now
from bot.core.periods import PERIOD_HELP, PeriodError, parse_period
from bot.core.retention import AGE_HELP, MINIMUM_AGE, AgeError
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.datacare import runs as datacare
from bot.datacare import themes as datacare_themes
from bot.datacare.csvfile import HeaderError
from bot.datacare.importer import Rejected
from bot.enps import cli as enps_cli
from bot.i18n import OverrideError
from bot.logs import configure_logging
from bot.report.export import FORMATS
from bot.themes.taxonomy import ThemesError
from storage.db import DatabaseUrlError
from storage.locks import AlreadyRunningError
from storage.migrate import OutdatedSchemaError, UnknownRevisionError

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
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


@app.command()
def run() -> None:
    """Run the bot: Telegram polling, HTTP intake, scheduler and outbox (Ctrl+C stops)."""
    try:
        eventloop.run(cli_commands.run(_settings()))
    except (
        MissingSettingError,
        OverrideError,
        ThemesError,
        AlreadyRunningError,
        UnknownRevisionError,
    ) as error:
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
    try:
        asyncio.run(cli_commands.migrate(settings))
    except UnknownRevisionError as error:
        raise _fail(str(error)) from None
    typer.echo(f"database is at the newest schema: {cli_commands.safe_url(settings.database_url)}")


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
        result = asyncio.run(cli_commands.ticket_closed(_settings(), event))
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
            typer.echo(asyncio.run(cli_commands.print_digest(settings, period)))
        if now:
            typer.echo(asyncio.run(cli_commands.post_digest(settings)))
    except (MissingSettingError, PeriodError, ThemesError) as error:
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
                cli_commands.export(
                    settings,
                    period=period,
                    fmt=fmt,
                    out=out,
                    progress=progress,
                )
            )
        except (PeriodError, ThemesError) as error:
            raise _fail(str(error)) from None
        except OSError as error:
            raise _fail(f"cannot write {out}: {error.strerror}") from None
    typer.echo(f"{rows} responses written to {path}")


@app.command("demo")
def demo_command(
    clients: Annotated[
        int, typer.Option("--clients", min=1, max=200, help="How many simulated clients")
    ] = 30,
    seed: Annotated[
        int, typer.Option(help="Seed of the clients' choices: same seed, same run")
    ] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for the chart and CSV (default: a new npsbot-demo-<time> here)"
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="An empty database to use (default: a temporary SQLite file)"
        ),
    ] = None,
) -> None:
    """Run the whole product locally against a fake Telegram: no token, network or settings."""
    from bot.demo import DemoError, demo  # noqa: PLC0415  (the sandbox loads only for the demo)

    configure_logging("WARNING")
    # A 0.2 s sweep that overruns is skipped with a warning; in the demo that is only noise.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    try:
        asyncio.run(
            demo(
                typer.get_text_stream("stdout"),
                clients=clients,
                seed=seed,
                out=out,
                database_url=database_url,
            )
        )
    except DemoError as error:
        raise _fail(str(error)) from None


@app.command("doctor")
def doctor_command() -> None:
    """Check this deployment: token, chats, managers, database, webhook, time zone, secrets."""
    from bot.doctor import doctor, passed, render  # noqa: PLC0415  (loaded for this command only)

    checks = asyncio.run(doctor(now=datetime.now(UTC)))
    render(checks, typer.get_text_stream("stdout"))
    raise typer.Exit(code=0 if passed(checks) else 1)


@app.command()
def purge(
    older_than: Annotated[
        str, typer.Option("--older-than", help=f"Anonymise surveys closed before {AGE_HELP}")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would change, change nothing")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help=f"Allow an age under {MINIMUM_AGE.days} days"),
    ] = False,
) -> None:
    """Remove personal data of old surveys; scores, dates and attribution stay for the numbers."""
    settings = _settings()
    try:
        report = asyncio.run(
            datacare.purge_old_data(settings, older_than=older_than, force=force, dry_run=dry_run)
        )
    except (AgeError, DatabaseUrlError, UnknownRevisionError, OutdatedSchemaError) as error:
        raise _fail(str(error)) from None
    except (SQLAlchemyError, OSError) as error:  # batches done so far stay done
        raise _fail(f"the database failed: {_first_line(error)}; run purge again") from None
    if dry_run:
        typer.echo("dry run: nothing was changed")
    for line in report.lines():
        typer.echo(line)


def _first_line(error: Exception) -> str:
    """An error's first line: the engine hides parameters, so it holds no personal data."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@app.command("themes")
def themes(
    test: Annotated[
        str | None,
        typer.Option("--test", help="Show which themes this text gets and which words matched"),
    ] = None,
    recompute: Annotated[
        bool,
        typer.Option(
            "--recompute", help="Re-tag stored comments (after NPSBOT_THEMES_FILE changed)"
        ),
    ] = False,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help=f"With --recompute: only comments written in this period; {PERIOD_HELP}",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Try the comment themes on a text, or re-tag stored comments with the current taxonomy."""
    if test is None and not recompute:
        raise _fail('say --test "some text" or --recompute')
    if period is not None and not recompute:
        raise _fail("--period works with --recompute")
    settings = _settings()
    try:
        if test is not None:
            matches = datacare_themes.explain(settings, test)
            if not matches:
                typer.echo("no theme")
            for match in matches:
                typer.echo(f"{match.theme}: {', '.join(match.words)}")
        if recompute:
            chosen = None if period is None else parse_period(period, now=utc_now(), tz=settings.tz)
            with contextlib.ExitStack() as stack:

                def progress(total: int) -> Callable[[int], None]:
                    if total < PROGRESS_BAR_ROWS:
                        return lambda _done: None
                    bar = stack.enter_context(
                        typer.progressbar(length=total, label="Tagging", file=sys.stderr)
                    )
                    return bar.update

                tagged = asyncio.run(datacare_themes.recompute(settings, chosen, progress))
            typer.echo(f"{tagged} comments tagged")
    except (ThemesError, PeriodError, DatabaseUrlError, UnknownRevisionError) as error:
        raise _fail(str(error)) from None


# Rejected lines printed to the terminal; the rest are only counted (--rejects keeps them all).
SHOWN_REJECTS = 100


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV file of past answers (see README)")],
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Write the rejected lines, with the reason, to this CSV"),
    ] = None,
) -> None:
    """Import past NPS answers from CSV; never sends anything. Exit code 1 if a line was refused."""
    settings = _settings()
    shown: list[Rejected] = []
    with contextlib.ExitStack() as stack:

        def progress(total: int) -> Callable[[int], None]:
            if total < PROGRESS_BAR_ROWS:
                return lambda _lines: None
            bar = stack.enter_context(
                typer.progressbar(length=total, label="Importing", file=sys.stderr)
            )
            done = [0]

            def advance(lines: int) -> None:
                bar.update(lines - done[0])
                done[0] = lines

            return advance

        def on_reject(rejected: Rejected) -> None:
            if len(shown) < SHOWN_REJECTS:
                shown.append(rejected)

        try:
            report = asyncio.run(
                datacare.import_file(
                    settings, file, on_reject=on_reject, rejects=rejects, progress=progress
                )
            )
        except HeaderError as error:
            raise _fail(f"{file}: {error}") from None
        except (ThemesError, DatabaseUrlError, UnknownRevisionError) as error:
            raise _fail(str(error)) from None
        except OSError as error:
            if error.filename is None:  # not a file: the database's connection
                raise _fail(
                    f"the database failed: {_first_line(error)}; run import again"
                ) from None
            raise _fail(f"{error.filename}: {error.strerror}") from None
        except SQLAlchemyError as error:  # stored batches stay; a second run adds the rest
            raise _fail(f"the database failed: {_first_line(error)}; run import again") from None
    for rejected in shown:
        typer.echo(f"line {rejected.line}: {rejected.reason}", err=True)
    if report.rejected > len(shown) and rejects is None:
        typer.echo(
            f"... and {report.rejected - len(shown)} more rejected lines; "
            "--rejects FILE writes them all",
            err=True,
        )
    for line in report.lines():
        typer.echo(line)
    if rejects is not None and report.rejected:
        typer.echo(f"rejected lines written to {rejects}")
    if report.rejected:
        raise typer.Exit(code=1)


def main() -> None:
    """Entry point of the ``npsbot`` script."""
    app()
