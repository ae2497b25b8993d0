"""Riding out a database outage: handlers retry, and a webhook answers 503 when it gives up."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError
from telegram.error import Conflict, NetworkError

from bot.app import _polling_error
from bot.resilience import OutagePolicy, current_outcome, is_outage
from bot.webhook import SECRET_HEADER, telegram_webhook_router


def outage() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


class Flaky:
    """A handler that fails ``failures`` times with ``error``, then succeeds."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self, update: object, context: object) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "handled"


def policy(patience: float, slept: list[float]) -> OutagePolicy:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return OutagePolicy(
        patience=timedelta(seconds=patience), first_delay=1.0, max_delay=4.0, sleep=sleep
    )


async def test_a_handler_is_retried_until_the_database_is_back() -> None:
    slept: list[float] = []
    handler = Flaky(4, outage())
    assert await policy(60, slept).wrap(handler)(None, None) == "handled"
    assert handler.calls == 5
    assert slept == [1.0, 2.0, 4.0, 4.0]  # doubling, capped


async def test_other_errors_are_not_retried() -> None:
    slept: list[float] = []
    handler = Flaky(1, IntegrityError("INSERT", {}, ValueError("duplicate")))
    with pytest.raises(IntegrityError):
        await policy(60, slept).wrap(handler)(None, None)
    assert (handler.calls, slept) == (1, [])


async def test_giving_up_is_reported_to_the_webhook_route() -> None:
    slept: list[float] = []
    handler = Flaky(100, outage())
    wrapped = policy(3, slept).wrap(handler)

    class Application:
        bot = None

        async def process_update(self, update: Any) -> None:
            # PTB hands handler errors to the error handlers; it does not raise.
            with contextlib.suppress(OperationalError):
                await wrapped(update, None)

    app = FastAPI()
    router = telegram_webhook_router(Application(), secret="s3cret", path="/hook")  # type: ignore[arg-type]
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.post("/hook", json={"update_id": 1}, headers={SECRET_HEADER: "s3cret"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert sum(slept) >= 3
    assert current_outcome.get() is None  # reset after the request


def test_what_counts_as_an_outage() -> None:
    assert is_outage(outage())
    assert is_outage(ConnectionRefusedError())
    assert not is_outage(IntegrityError("INSERT", {}, ValueError("duplicate")))
    assert not is_outage(ValueError("bad data"))


def test_a_second_poller_elsewhere_is_named_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    _polling_error(Conflict("terminated by other getUpdates request"))
    _polling_error(NetworkError("boom"))
    messages = [record.getMessage() for record in caplog.records]
    assert "another process polling with this bot token" in messages[0]
    assert messages[1] == "getUpdates failed (NetworkError); retrying"
