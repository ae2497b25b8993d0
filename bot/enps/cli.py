"""``npsbot campaign ...``: employee NPS campaigns from the shell (argument parsing only)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from bot.config import MissingSettingError, Settings, load_settings
from bot.enps.campaigns import CampaignDesk, CampaignError, CampaignSpec, with_desk
from bot.enps.schedule import ScheduleError
from bot.logs import configure_logging

T = TypeVar("T")

app = typer.Typer(
    help="Employee NPS campaigns: survey a team on a schedule, report anonymous totals.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

Members = Annotated[list[int], typer.Argument(help="Telegram user ids", show_default=False)]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"NPSBOT_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise _fail(f"invalid settings: {problems}") from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run(work: Callable[[CampaignDesk], Awaitable[T]]) -> T:
    try:
        return asyncio.run(with_desk(_settings(), work))
    except (CampaignError, ScheduleError, MissingSettingError) as error:
        raise _fail(str(error)) from None


@app.command()
def create(  # noqa: PLR0917  (typer reads options from positional parameters)
    name: Annotated[str, typer.Argument(help="A short name: letters, digits, . _ -")],
    chat_id: Annotated[int, typer.Option(help="The chat each round's digest goes to")],
    cron: Annotated[
        str, typer.Option(help="When rounds start, crontab in NPSBOT_TIMEZONE")
    ] = "0 10 1 1,4,7,10 *",
    company: Annotated[
        str | None, typer.Option(help="The name in the question (default NPSBOT_COMPANY_NAME)")
    ] = None,
    language: Annotated[str | None, typer.Option(help="en or ru (default NPSBOT_LANGUAGE)")] = None,
    round_days: Annotated[float, typer.Option(help="Days a round takes answers")] = 7.0,
    remind_after_days: Annotated[
        float, typer.Option(help="Days until the one reminder (0: none)")
    ] = 3.0,
    min_group_size: Annotated[
        int | None,
        typer.Option(help="Fewest answers a digest reports (default NPSBOT_DIGEST_MIN_GROUP_SIZE)"),
    ] = None,
    member: Annotated[
        list[int] | None, typer.Option(help="A member's Telegram user id (repeatable)")
    ] = None,
) -> None:
    """Create a campaign and print the link its members open once to join."""
    spec = CampaignSpec(
        name=name,
        chat_id=chat_id,
        cron=cron,
        company=company,
        language=language,
        round_days=round_days,
        remind_after_days=remind_after_days or None,
        min_group_size=min_group_size,
        members=tuple(member or ()),
    )

    async def work(desk: CampaignDesk) -> str:
        desk.settings.require_link_secret()  # no token, no link: say so before anything is stored
        await desk.create(spec)
        return await desk.link(name)

    link = _run(work)
    typer.echo(f"campaign {name!r} created; members join with {link}")


@app.command("add-members")
def add_members(name: str, user_ids: Members) -> None:
    """Add members by Telegram id; those who never started the bot are reported unreachable."""
    added = _run(lambda desk: desk.add_members(name, user_ids))
    typer.echo(f"{added} members added to {name!r} ({len(user_ids) - added} were in already)")


@app.command("remove-members")
def remove_members(name: str, user_ids: Members) -> None:
    """Take members out of the campaign's next rounds."""
    removed = _run(lambda desk: desk.remove_members(name, user_ids))
    typer.echo(f"{removed} members removed from {name!r}")


@app.command("list")
def list_campaigns() -> None:
    """Every campaign: members by status, schedule, and the next or open round."""
    lines = _run(lambda desk: desk.listing())
    for line in lines:
        typer.echo(line.describe())
    if not lines:
        typer.echo("no campaigns yet: npsbot campaign create NAME --chat-id ID")


@app.command()
def link(name: str) -> None:
    """Print the campaign's join link (a fresh one, valid NPSBOT_ENPS_LINK_TTL_DAYS days)."""
    typer.echo(_run(lambda desk: desk.link(name)))


@app.command("start-round")
def start_round(name: str) -> None:
    """Open a round now, outside the schedule; the running bot sends the questions."""
    opened = _run(lambda desk: desk.start_round(name))
    typer.echo(f"round {opened.round_id} of {name!r} opened: {opened.asked} members asked")


@app.command()
def digest(name: str) -> None:
    """Print the digest of the campaign's last closed round (the same anonymous totals)."""
    typer.echo(_run(lambda desk: desk.last_digest(name)))
