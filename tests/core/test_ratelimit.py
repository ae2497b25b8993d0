"""Flood gate: Telegram's windows, with time passed in."""

import pytest

from bot.core.ratelimit import FloodGate, Limits


def test_private_chat_gets_one_message_a_second() -> None:
    gate = FloodGate()
    assert gate.chat_wait(7, 100.0) == 0
    gate.book(7, 100.0)
    assert gate.chat_wait(7, 100.5) == pytest.approx(0.5)
    assert gate.chat_wait(8, 100.5) == 0  # another chat is not held up
    assert gate.chat_wait(7, 101.0) == 0


def test_group_gets_twenty_a_minute() -> None:
    gate = FloodGate()
    for second in range(20):
        assert gate.chat_wait(-100, float(second)) == 0
        gate.book(-100, float(second))
    assert gate.chat_wait(-100, 20.0) == pytest.approx(40.0)


def test_global_limit_and_429_pause() -> None:
    gate = FloodGate(Limits(global_per_second=2))
    gate.book(1, 0.0)
    gate.book(2, 0.0)
    assert gate.global_wait(0.1) == pytest.approx(0.9)
    gate.pause(3, until=5.0)
    assert gate.chat_wait(3, 1.0) == pytest.approx(4.0)
    gate.forget_idle(10.0)
    assert gate.chat_wait(3, 10.0) == 0
