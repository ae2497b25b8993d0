"""Sliding-window flood limits, driven by a fake clock so no test sleeps."""

from __future__ import annotations

import pytest

from bot.sandbox.flood import FloodLimiter, FloodLimits, is_counted


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_private_chat_allows_n_calls_per_sliding_second() -> None:
    clock = Clock()
    limiter = FloodLimiter(FloodLimits(private_per_second=2), clock)
    for _ in range(2):
        assert limiter.retry_after(42) is None
        limiter.record(42)
        clock.now += 0.1
    assert limiter.retry_after(42) == 1
    clock.now = 1001.0  # the first call leaves the window
    assert limiter.retry_after(42) is None


def test_rejected_calls_do_not_use_up_slots() -> None:
    clock = Clock()
    limiter = FloodLimiter(FloodLimits(private_per_second=1), clock)
    limiter.record(7)
    for _ in range(5):
        assert limiter.retry_after(7) == 1
    clock.now += 1.0
    assert limiter.retry_after(7) is None


def test_group_window_is_a_minute_and_retry_after_rounds_up() -> None:
    clock = Clock()
    limiter = FloodLimiter(FloodLimits(group_per_minute=2), clock)
    limiter.record(-100)
    clock.now += 10.5
    limiter.record(-100)
    clock.now += 5.0
    assert limiter.retry_after(-100) == 45  # 60 - 15.5 = 44.5 -> 45
    clock.now = 1060.0
    assert limiter.retry_after(-100) is None
    assert limiter.retry_after(-200) is None  # other groups are independent


def test_global_limit_spans_all_chats() -> None:
    clock = Clock()
    limiter = FloodLimiter(FloodLimits(global_per_second=3, private_per_second=5), clock)
    for chat_id in (1, 2, -3):
        assert limiter.retry_after(chat_id) is None
        limiter.record(chat_id)
    assert limiter.retry_after(4) == 1
    assert limiter.retry_after(None) == 1


def test_disabled_limits_never_refuse() -> None:
    limiter = FloodLimiter(FloodLimits(private_per_second=1, enabled=False), Clock())
    for _ in range(10):
        assert limiter.retry_after(1) is None
        limiter.record(1)


def test_counted_methods_are_sends_and_edits_but_not_chat_actions() -> None:
    assert is_counted("sendMessage")
    assert is_counted("sendphoto")
    assert is_counted("editMessageText")
    assert not is_counted("sendChatAction")
    assert not is_counted("getUpdates")
    assert not is_counted("answerCallbackQuery")
    assert not is_counted("deleteMessage")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="private_per_second"):
        FloodLimits(private_per_second=0)
