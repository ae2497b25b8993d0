"""Checks that need no Telegram: settings, database schema, time zone and schedule, secrets."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import SecretStr
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.doctor.result import Check, Status
from bot.doctor.settings import Problem
from storage.db import Database
from storage.migrate import SchemaStatus

MIN_SECRET_LENGTH = 16
# Settings with a check of their own, which reports them better than the generic list.
OWN_CHECKS = frozenset({"timezone", "digest_cron", "telegram_webhook_url"})


def check_settings(problems: dict[str, Problem]) -> Check:
    """Every ``NPSBOT_*`` value reads well (the time zone and the cron are checked below)."""
    listed = [problem for field, problem in problems.items() if field not in OWN_CHECKS]
    if not listed:
        return Check("settings", Status.PASS, "every NPSBOT_* setting reads well")
    detail = "; ".join(f"{problem.variable}: {problem.message}" for problem in listed)
    return Check("settings", Status.FAIL, detail)


def check_managers(user_ids: list[int]) -> Check:
    """Who may press alert buttons and use manager commands (``bot.core.cases.ManagerAccess``)."""
    if not user_ids:
        return Check(
            "manager users",
            Status.WARN,
            "NPSBOT_MANAGER_USER_IDS is not set: anyone in the managers' chats may act on "
            "alerts, and nobody may use manager commands in a private chat with the bot",
        )
    return Check("manager users", Status.PASS, f"{len(user_ids)} manager(s) may act on alerts")


def _short(error: BaseException) -> str:
    """The first line of a driver's error, without SQLAlchemy's links and parameters."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__


def _missing_sqlite_file(url: URL) -> Path | None:
    """A SQLite file that is not there (connecting would create an empty one), as an absolute
    path: a relative one is relative to where the command runs, which is the usual mistake."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database).resolve()
    return None if path.is_file() else path


async def check_database(url: str) -> Check:
    """Reachable and at the newest migration; never creates or migrates anything."""
    name = "database"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return Check(name, Status.FAIL, "NPSBOT_DATABASE_URL is not a database URL")
    shown = parsed.render_as_string(hide_password=True)
    missing = _missing_sqlite_file(parsed)
    if missing is not None:
        return Check(
            name, Status.FAIL, f"no database file at {shown} ({missing}): run `npsbot migrate`"
        )
    try:
        database = Database.open(url)
    except ArgumentError as error:  # no driver for it, e.g. postgresql:// without +asyncpg
        return Check(name, Status.FAIL, f"NPSBOT_DATABASE_URL={shown}: {error}")
    async with database:
        try:
            status = await database.schema_status()
        except (SQLAlchemyError, OSError) as error:
            return Check(name, Status.FAIL, f"cannot use {shown}: {_short(error)}")
    return Check(name, *_schema_verdict(shown, status))


def _schema_verdict(shown: str, status: SchemaStatus) -> tuple[Status, str]:
    newest = ", ".join(status.heads)
    current = ", ".join(status.current)
    if status.up_to_date:
        return Status.PASS, f"{shown} is at the newest schema ({newest})"
    if not status.current:
        return Status.FAIL, f"{shown} has no schema yet: run `npsbot migrate`"
    if status.from_the_future:
        return (
            Status.FAIL,
            f"{shown} is at revision {current}, which this npsbot does not know: "
            "a newer version migrated it; upgrade npsbot",
        )
    return Status.FAIL, f"{shown} is at revision {current}, the newest is {newest}: " + (
        "run `npsbot migrate`"
    )


def check_timezone(timezone: str, cron: str, now: datetime) -> Check:
    """A valid IANA zone, the local time now, and when the next digest goes out."""
    name = "time zone"
    wrong = []
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        wrong.append(
            f"NPSBOT_TIMEZONE={timezone!r} is not an IANA time zone name (e.g. Europe/Moscow)"
        )
        tz = ZoneInfo("UTC")  # the cron is still read, so both faults are named in one run
    try:
        trigger = CronTrigger.from_crontab(cron, timezone=tz)
    except ValueError as error:
        wrong.append(f"NPSBOT_DIGEST_CRON={cron!r} is not a crontab: {error}")
    if wrong:
        return Check(name, Status.FAIL, "; ".join(wrong))
    local = now.astimezone(tz)
    next_run = trigger.get_next_fire_time(None, now)
    when = f"{next_run:%a %Y-%m-%d %H:%M %Z}" if next_run is not None else "never"
    return Check(
        name,
        Status.PASS,
        f"{timezone}: local time {local:%Y-%m-%d %H:%M %Z}; next digest {when} ({cron})",
    )


def check_api_token(token: SecretStr | None) -> Check:
    """The helpdesk's bearer token for the intake."""
    name = "intake API token"
    value = token.get_secret_value() if token is not None else ""
    if not value:
        return Check(
            name, Status.WARN, "NPSBOT_API_TOKEN is not set: the intake answers 503 until it is"
        )
    if len(value) < MIN_SECRET_LENGTH:
        return Check(
            name,
            Status.WARN,
            f"NPSBOT_API_TOKEN is {len(value)} characters: use a long random one "
            "(e.g. `openssl rand -hex 32`)",
        )
    return Check(name, Status.PASS, f"set ({len(value)} characters)")


def check_link_secret(secret: SecretStr | None) -> Check:
    """The key that signs deep links."""
    name = "link secret"
    value = secret.get_secret_value() if secret is not None else ""
    if not value:
        return Check(
            name,
            Status.WARN,
            "NPSBOT_LINK_SECRET is not set: links are signed with a key derived from the bot "
            "token, so links already sent stop working when the token changes",
        )
    if len(value) < MIN_SECRET_LENGTH:
        return Check(
            name,
            Status.WARN,
            f"NPSBOT_LINK_SECRET is {len(value)} characters: use a long random one",
        )
    return Check(name, Status.PASS, f"set ({len(value)} characters)")
