"""The Telegram error policy: how long a transient failure waits, and what ends the retries."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.delivery.policy import MAX_BACKOFF_SECONDS, Cause, Verdict, backoff, judge

DAY = timedelta(hours=24)
SAMPLES = 200


def delays(attempts: int, seed: int = 1) -> list[float]:
    """Many backoffs after ``attempts`` failures, from a seeded generator."""
    rng = random.Random(seed)
    return [backoff(attempts, rng=rng) for _ in range(SAMPLES)]


def retry_delay(error: Exception, attempts: int) -> float:
    decision = judge(error, attempts=attempts, age=timedelta(minutes=5), max_age=DAY)
    assert decision.verdict is Verdict.RETRY, decision
    return decision.delay


def test_backoff_doubles_with_each_failure_until_the_cap() -> None:
    for attempts in range(9):  # 2**9 = 512 is past the 300 s cap
        ceiling = 2.0**attempts
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays(attempts)), attempts
    # Each failure's shortest wait is at least the previous one's longest: strictly growing.
    for attempts in range(8):
        assert min(delays(attempts + 1)) >= max(delays(attempts))


@pytest.mark.parametrize("attempts", [9, 10, 16, 17, 100, 10_000])
def test_backoff_is_capped(attempts: int) -> None:
    found = delays(attempts)
    assert all(MAX_BACKOFF_SECONDS / 2 <= delay <= MAX_BACKOFF_SECONDS for delay in found)


@pytest.mark.parametrize("attempts", [0, 3, 8, 50])
def test_backoff_is_jittered_within_its_bounds(attempts: int) -> None:
    found = delays(attempts)
    ceiling = min(MAX_BACKOFF_SECONDS, 2.0**attempts)
    assert len(set(found)) > SAMPLES // 2  # not one constant delay: retries do not stampede
    # Spread over the whole band [ceiling / 2, ceiling], not bunched at one end.
    assert min(found) < ceiling * 0.6
    assert max(found) > ceiling * 0.9
    assert delays(attempts, seed=2) != found


def test_backoff_without_a_generator_is_random_too() -> None:
    found = {backoff(5) for _ in range(50)}
    assert len(found) > 1
    assert all(16.0 <= delay <= 32.0 for delay in found)


@pytest.mark.parametrize(
    "error",
    [
        NetworkError("Bad Gateway"),  # PTB's 502 from Telegram
        NetworkError("Internal Server Error"),
        TimedOut("Timed out"),
        NetworkError("httpx.ConnectError: connection refused"),
    ],
    ids=["502", "500", "timeout", "network"],
)
def test_a_5xx_or_a_timeout_is_retried_with_the_backoff(error: Exception) -> None:
    for attempts in range(12):
        ceiling = min(MAX_BACKOFF_SECONDS, 2.0**attempts)
        delay = retry_delay(error, attempts)
        assert ceiling / 2 <= delay <= ceiling, (attempts, delay)


def test_retries_end_only_when_the_call_is_too_old() -> None:
    error = NetworkError("Bad Gateway")
    young = judge(error, attempts=500, age=DAY - timedelta(seconds=1), max_age=DAY)
    assert young.verdict is Verdict.RETRY  # however many attempts
    assert young.delay <= MAX_BACKOFF_SECONDS
    old = judge(error, attempts=0, age=DAY, max_age=DAY)
    assert (old.verdict, old.cause) == (Verdict.GIVE_UP, Cause.EXPIRED)


@pytest.mark.parametrize("seconds", [1, 7, 3600])
def test_a_429_waits_exactly_retry_after(seconds: int) -> None:
    for retry_after in (seconds, timedelta(seconds=seconds)):
        decision = judge(RetryAfter(retry_after), attempts=30, age=timedelta(0), max_age=DAY)
        assert (decision.verdict, decision.delay) == (Verdict.FLOOD, float(seconds))
