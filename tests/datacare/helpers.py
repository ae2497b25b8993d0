"""What the data care tests share: settings for a test database, and a digest to compare."""

from __future__ import annotations

from bot.config import Settings
from bot.core.periods import Period
from bot.report.period import WeeklyDigest
from bot.services import digest_service
from storage.db import Database


def settings_for(database_url: str, **extra: object) -> Settings:
    """Settings of a one-shot command on ``database_url``, in the harness's time zone."""
    return Settings(
        database_url=database_url,
        timezone="Europe/Moscow",
        _env_file=None,  # type: ignore[call-arg]
        **extra,  # type: ignore[arg-type]
    )


async def digest_of(settings: Settings, period: str) -> tuple[WeeklyDigest, str, Period]:
    """The digest, the /nps summary and the period, as the digest service makes them."""
    async with Database.open(settings.database_url) as database:
        service = digest_service(settings, database)
        chosen = service.parse_period(period)
        return await service.build(chosen), await service.summary(chosen), chosen
