"""The running bot's scheduled jobs through a PostgreSQL outage, as PTB's JobQueue runs them.

The database sits behind a plug that cuts every connection and refuses new ones, then is put
back. Each job is run several times meanwhile (``Job.run``: the scheduler's own path, error
handler included): one WARNING per job as the outage starts, one INFO as it ends, no ERROR.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import make_url

from bot.config import Settings
from bot.core.clock import ShiftedClock
from bot.sandbox.server import FakeBotApi
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.e2e.conftest import API_TOKEN, MANAGERS, Harness
from tests.intake.test_outage import Plug

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="NPSBOT_TEST_DATABASE_URL is not set")
JOBS = {"survey-sweep", "enps-rounds", "weekly-digest"}
RUNS = 5
RECOVERY_RUNS = 5  # the pool may hand out a dead connection once before it reconnects


@pytest.fixture
async def plugged() -> AsyncIterator[tuple[Harness, Plug]]:
    """The bot running on PostgreSQL through a plug, its jobs left to the test to run."""
    assert POSTGRES_URL is not None
    await reset_postgres(POSTGRES_URL)
    real = make_url(POSTGRES_URL)
    plug = Plug(real.host or "127.0.0.1", real.port or 5432)
    await plug.insert()
    async with FakeBotApi() as fake:
        fake.add_group(MANAGERS, "NPS alerts")
        settings = Settings(
            telegram_token=fake.token,  # type: ignore[arg-type]
            telegram_api_url=fake.base_url,
            database_url=real.set(host="127.0.0.1", port=plug.port).render_as_string(False),
            manager_chat_id=MANAGERS,
            api_token=API_TOKEN,  # type: ignore[arg-type]
            http_port=0,
            sweep_interval_seconds=3600,  # after the first run at start, only the test runs them
            _env_file=None,  # type: ignore[call-arg]
        )
        harness = Harness(fake, settings, ShiftedClock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC)))
        await harness.start()
        try:
            yield harness, plug
        finally:
            if plug.server is None:
                await plug.insert()
            await harness.stop()
            await plug.pull()


async def test_each_job_logs_the_outage_once_and_its_end_once(
    plugged: tuple[Harness, Plug], caplog: pytest.LogCaptureFixture
) -> None:
    harness, plug = plugged
    assert harness.bot is not None
    application = harness.bot.services.application
    assert application.job_queue is not None
    jobs = {job.name: job for job in application.job_queue.jobs()}
    assert set(jobs) == JOBS

    with caplog.at_level(logging.INFO):
        await plug.pull()
        for _ in range(RUNS):
            for job in jobs.values():
                await job.run(application)
        outage = list(caplog.records)
        await plug.insert()
        for _ in range(RECOVERY_RUNS):
            for job in jobs.values():
                await job.run(application)

    def said(records: list[logging.LogRecord], level: int, text: str) -> list[str]:
        return [
            record.getMessage().split(":")[0]
            for record in records
            if record.name == "bot.resilience"
            and record.levelno == level
            and text in record.getMessage()
        ]

    # The outbox loop runs on its own and says so too, once, if it met the outage.
    started = said(outage, logging.WARNING, "the database is unavailable")
    ended = said(caplog.records, logging.INFO, "the database is back")
    assert sorted(name for name in started if name != "outbox") == sorted(JOBS)
    assert sorted(name for name in ended if name != "outbox") == sorted(JOBS)
    assert started.count("outbox") <= 1 and ended.count("outbox") <= 1
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]
