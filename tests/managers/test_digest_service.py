"""DigestService on SQLite and PostgreSQL: what goes into the outbox, and what never should."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import col, select

from bot.config import Settings
from bot.core.callback import ScorePress
from bot.core.tickets import CustomerInfo
from bot.cron import last_fire_time
from bot.managers import digest as digest_module
from bot.managers.digest import PostOutcome
from bot.report import chart as chart_module
from bot.services import Services, build_services
from storage.locks import try_transaction_lock
from storage.migrate import upgrade_to_head
from storage.models import OutboxMessage
from tests.report.helpers import WEEK, at, insert_surveys
from tests.survey.fake_telegram import bench_on_fake_telegram
from tests.survey.helpers import MANAGERS as BENCH_MANAGERS
from tests.survey.helpers import Bench, buttons, open_bench, press, text

MANAGERS = -100600
AFTER_THE_WEEK = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)  # Monday: the digest of WEEK is due
MONDAY_9_MSK = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # the digest of the bench's week is due


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]
        database_url=database_url,
        manager_chat_id=MANAGERS,
        timezone="UTC",
        _env_file=None,  # type: ignore[call-arg]
    )
    built = build_services(settings, clock=lambda: AFTER_THE_WEEK)
    await upgrade_to_head(built.engine)
    await insert_surveys(
        built.engine,
        [
            {"ticket": f"T-{n}", "sent_at": at(7, 9), "answered_at": at(7, 10 + n), "score": s}
            for n, s in enumerate((10, 9, 3, 7, 0))
        ],
    )
    yield built
    await built.close()


async def queued_methods(services: Services) -> list[str]:
    async with services.session_factory() as session:
        rows = await session.exec(
            select(OutboxMessage.method)
            .where(OutboxMessage.chat_id == MANAGERS)
            .order_by(col(OutboxMessage.id))
        )
        return list(rows.all())


async def test_text_chart_and_csv_are_queued_in_order_with_the_chart_drawn_off_the_loop(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn_in: list[int] = []
    # DigestService imports the chart where it draws one (matplotlib stays out of start-up),
    # so the spy goes where that import finds it.
    draw = chart_module.render_trend_chart

    def spy(*args: object, **kwargs: object) -> bytes:
        drawn_in.append(threading.get_ident())
        return draw(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(chart_module, "render_trend_chart", spy)

    await services.digest.send_digest(MANAGERS, WEEK)

    assert await queued_methods(services) == ["sendMessage", "sendPhoto", "sendDocument"]
    assert len(drawn_in) == 1
    assert drawn_in[0] != threading.get_ident()  # a worker thread; the loop keeps serving


async def test_a_csv_over_telegrams_limit_is_left_out_and_the_rest_goes(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(digest_module, "MAX_UPLOAD_BYTES", 100)

    await services.digest.send_digest(MANAGERS, WEEK)

    assert await queued_methods(services) == ["sendMessage", "sendPhoto"]
    assert "over Telegram's limit" in caplog.text


async def test_the_scheduled_digest_is_queued_once(services: Services) -> None:
    """Once per chat and period, by this process and by the next one on the same database: a
    restart must not post the week again."""
    first = await services.digest.post()
    second = await services.digest.post(as_of=AFTER_THE_WEEK)
    async with build_services(services.settings, clock=lambda: AFTER_THE_WEEK) as restarted:
        third = await restarted.digest.post(as_of=AFTER_THE_WEEK)

    assert (first.outcome, second.outcome, third.outcome) == (
        PostOutcome.QUEUED,
        PostOutcome.ALREADY_POSTED,
        PostOutcome.ALREADY_POSTED,
    )
    assert await queued_methods(services) == ["sendMessage", "sendPhoto", "sendDocument"]


async def test_an_instance_that_finds_the_lock_taken_builds_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; one SQLite file means one instance")

    async def must_not_build(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("built a digest another instance is posting")

    period = services.digest.period(AFTER_THE_WEEK)
    async with services.session_factory() as other_instance:
        lock = f"npsbot:digest:{MANAGERS}:{period.start.isoformat()}"
        assert await try_transaction_lock(other_instance, lock)
        monkeypatch.setattr(type(services.digest), "build", must_not_build)

        result = await services.digest.post()

    assert result.outcome is PostOutcome.ALREADY_POSTED
    assert await queued_methods(services) == []


async def answer(bench: Bench, user: int, ticket_id: str, score: int) -> ScorePress:
    """A client gets their survey and taps ``score``, as the survey handler records it."""
    await bench.close_ticket(ticket_id, CustomerInfo(f"c-{user}", telegram_user_id=user))
    await bench.settle()
    (question,) = [row for row in await bench.sent(user) if ticket_id in text(row)]
    tapped = press(question, str(score))
    assert isinstance(tapped, ScorePress) and question.message_id is not None
    await bench.services.answers.record_score(
        survey_id=tapped.survey_id, score=score, presser_id=user, message_id=question.message_id
    )
    await bench.settle()
    return tapped


async def digest_text(bench: Bench) -> str:
    """The one digest text queued for the managers' chat."""
    (digest,) = [row for row in await bench.queued(BENCH_MANAGERS) if "NPS digest" in text(row)]
    return text(digest)


def schedule(settings: Settings) -> CronTrigger:
    """The digest's schedule, as NpsBot makes it from the settings."""
    return CronTrigger.from_crontab(settings.digest_cron, timezone=settings.tz)


async def test_the_scores_clients_gave_in_the_week_make_mondays_digest(database_url: str) -> None:
    """The digest counts what clients answered through the survey, in the operator's week:
    Monday 09:00 in Moscow, 06:00 UTC, reports the week of the answers."""
    async with open_bench(database_url) as bench:
        for number, (user, score) in enumerate([(8001, 10), (8002, 9), (8003, 2)]):
            await answer(bench, user, f"T-40{number}", score)
        bench.clock.move_to(MONDAY_9_MSK)
        posted = await bench.services.digest.post()  # what the weekly job runs at that time
        digest = await digest_text(bench)

    assert posted.outcome is PostOutcome.QUEUED
    assert "NPS: <b>33</b>" in digest  # (2 promoters - 1 detractor) / 3 answers
    assert "3 responses" in digest


async def test_a_monthly_digest_missed_over_a_long_outage_reports_the_month_before(
    database_url: str,
) -> None:
    """Down from before 1 December 09:00 until the 9th: the run missed is 8 days behind, and
    its digest is still November's. PTB's jobs live in memory, so NpsBot catches the run up at
    start from the schedule's last fire time, as here (tests/e2e/test_survey_loop.py runs it)."""
    monthly = {"digest_period": "month", "digest_cron": "0 9 1 * *"}
    async with open_bench(database_url, **monthly) as bench:
        tapped = await answer(bench, 8102, "T-702", 3)  # 18 November
        (prompt,) = [row for row in await bench.sent(8102) if "Skip" in buttons(row)]
        assert prompt.message_id is not None
        await bench.services.answers.skip_comment(
            survey_id=tapped.survey_id, presser_id=8102, message_id=prompt.message_id
        )
        bench.clock.move_to(datetime(2026, 12, 9, 8, 0, tzinfo=UTC))
        settings = bench.services.settings
        missed = last_fire_time(schedule(settings), bench.clock())
        assert missed == datetime(2026, 12, 1, 9, 0, tzinfo=settings.tz)

        caught_up = await bench.services.digest.catch_up(missed_run=missed)
        digest = await digest_text(bench)

    assert caught_up.outcome is PostOutcome.QUEUED
    assert "Nov 1, 2026 – Nov 30, 2026" in digest  # the month before the run
    assert "NPS: <b>-100</b>" in digest  # its one answer, a 3


async def test_a_fresh_install_has_no_digest_to_catch_up(database_url: str) -> None:
    """Installed after Monday's run: the run is found missed, but there was nothing before it
    to report, so the first start posts no digest."""
    async with open_bench(database_url) as bench:
        bench.clock.move_to(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # Monday, 11:00 in Moscow
        missed = last_fire_time(schedule(bench.services.settings), bench.clock())
        assert missed == MONDAY_9_MSK
        caught_up = await bench.services.digest.catch_up(missed_run=missed)
        await bench.settle()
        assert await bench.queued(BENCH_MANAGERS) == []

    assert caught_up.outcome is PostOutcome.NOTHING_TO_CATCH_UP


async def test_a_digest_telegram_refused_can_be_posted_again(database_url: str) -> None:
    """The bot was removed from the managers' group: Telegram answers 403, and the digest it
    could not post does not count as posted, so it can go again once the bot is back."""
    async with bench_on_fake_telegram(database_url) as (bench, telegram):
        telegram.kick_bot(BENCH_MANAGERS)
        first = await bench.services.digest.post(as_of=MONDAY_9_MSK)
        await bench.settle()
        refused = [call.status for call in telegram.calls_of("sendMessage")]
        again = await bench.services.digest.post(as_of=MONDAY_9_MSK)

    assert first.outcome is PostOutcome.QUEUED
    assert refused == [403]
    assert again.outcome is PostOutcome.QUEUED


async def test_the_first_digest_imports_the_report_in_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pandas and matplotlib take most of a second to import: on the loop, the first /nps or
    digest of a process would hold up every update meanwhile."""
    threads: list[bool] = []

    def spy(tagger: object) -> None:
        threads.append(threading.current_thread() is threading.main_thread())

    monkeypatch.setattr(digest_module, "_import_report", spy)
    monkeypatch.setattr(digest_module, "_REPORT_MODULES", ("a_module_nobody_imported",))
    await digest_module._load_report(None)
    assert threads == [False]
    monkeypatch.setattr(digest_module, "_REPORT_MODULES", ("bot.managers.digest",))
    await digest_module._load_report(None)  # imported already: nothing to do
    assert threads == [False]
