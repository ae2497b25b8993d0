"""Flood gate: Telegram's windows, with time passed in."""

import itertools
import random

import pytest

from bot.core.ratelimit import GLOBAL_WINDOW, PACING_SHARE, FloodGate, Limits

GROUP = -100


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
    # Both window (full until 1.0) and pacing (two intervals of 1 / (2 * share) s) hold it.
    assert gate.global_wait(0.1) == pytest.approx(2 / (2 * PACING_SHARE) - 0.1)
    gate.pause(3, until=5.0)
    assert gate.chat_wait(3, 1.0) == pytest.approx(4.0)
    gate.forget_idle(10.0)
    assert gate.chat_wait(3, 10.0) == 0


def test_a_call_made_a_little_late_keeps_the_schedule() -> None:
    gate = FloodGate(Limits(global_per_second=10))
    interval = 1 / (10 * PACING_SHARE)
    gate.book(1, 0.0)
    gate.book(2, interval + interval / 4)  # the loop was busy for a quarter of a slot
    assert gate.global_wait(interval + interval / 4) == pytest.approx(interval * 3 / 4)
    gate.book(3, 10.0)  # after a long pause the schedule starts afresh
    assert gate.global_wait(10.0) == pytest.approx(interval)


def test_late_calls_never_bring_n_calls_within_a_stretched_second() -> None:
    # The loop wakes a little late, now and then by half a slot; the schedule catches up
    # behind a late call, yet any 31 calls in a row still span the stretched window, so a
    # call delayed in transit by 20 ms more than the one 30 calls later is no 429.
    gate = FloodGate(Limits(global_per_second=30))
    interval = 1 / (30 * PACING_SHARE)
    jitter = random.Random(7)
    now, booked = 0.0, []
    while len(booked) < 3000:
        wait = gate.global_wait(now)
        if wait > 0:
            late = interval / 2 if jitter.random() < 0.02 else jitter.uniform(0, 0.002)
            now += wait + late
            continue
        gate.book(len(booked) + 1, now)
        booked.append(now)
    spans = [b - a for a, b in zip(booked, booked[30:], strict=False)]
    assert min(spans) >= GLOBAL_WINDOW - 1e-9
    rate = (len(booked) - 1) / (booked[-1] - booked[0])
    assert rate >= 30 * 0.97  # lateness costs no share of the rate for good


def test_calls_are_spaced_evenly_just_under_the_global_limit() -> None:
    gate = FloodGate(Limits(global_per_second=30))
    now, booked = 0.0, []
    while len(booked) < 90:
        wait = gate.global_wait(now)
        if wait > 0:
            now += wait
            continue
        gate.book(len(booked) + 1, now)
        booked.append(now)
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(booked)}
    assert gaps == {round(1 / (30 * PACING_SHARE), 6)}  # no bursts
    # Never more than 30 in any one-second window, with room to spare for network jitter.
    assert max(sum(1 for t in booked if start <= t < start + 1.0) for start in booked) == 30
    assert booked[-1] - booked[0] == pytest.approx(89 / (30 * PACING_SHARE))


def test_a_429_pause_holds_only_its_chat() -> None:
    gate = FloodGate()
    gate.pause(-100, until=60.0)
    assert gate.chat_wait(-100, 1.0) == pytest.approx(59.0)
    assert gate.chat_wait(7, 1.0) == 0  # other chats, private or group, go on
    assert gate.chat_wait(-200, 1.0) == 0
    assert gate.global_wait(1.0) == 0  # and the bot as a whole is not paused
    gate.pause(-100, until=30.0)  # an earlier end does not cut the wait short
    assert gate.chat_wait(-100, 1.0) == pytest.approx(59.0)
    gate.forget_idle(40.0)  # housekeeping keeps a pause that is still running
    assert gate.chat_wait(-100, 40.0) == pytest.approx(20.0)
    assert gate.chat_wait(-100, 60.0) == 0


def test_held_names_the_chats_that_may_not_get_a_call_now() -> None:
    gate = FloodGate(Limits(global_per_second=1000, private_per_second=1, group_per_minute=2))
    gate.book(7, 100.0)  # a private chat: one a second
    gate.book(-5, 100.0)
    gate.book(-5, 100.5)  # a group at its 2 a minute
    gate.book(-6, 100.5)  # a group with room left
    gate.pause(8, until=200.0)  # a 429 for an hour or so
    assert gate.held(100.6) == {7, -5, 8}
    assert gate.held(101.1) == {-5, 8}  # the private chat's second is over
    assert gate.held(160.6) == {8}  # and the group's minute


def test_edits_in_a_group_leave_the_last_slots_to_new_messages() -> None:
    gate = FloodGate(Limits(group_per_minute=20, group_kept_for_new=5))
    for n in range(15):
        assert gate.chat_wait(GROUP, float(n), edit=True) == 0
        gate.book(GROUP, float(n))
    assert gate.chat_wait(GROUP, 15.0, edit=True) == pytest.approx(45.0)  # the first one ages out
    assert gate.chat_wait(GROUP, 15.0) == 0  # a new alert goes at once
    assert gate.edits_held(15.0) == {GROUP}
    assert gate.held(15.0) == set()
    for n in range(5):  # the kept slots: new messages only
        gate.book(GROUP, 15.0 + n)
    assert gate.chat_wait(GROUP, 20.0) == pytest.approx(40.0)
    assert gate.held(20.0) == {GROUP}


def test_private_chats_keep_nothing_back_for_edits() -> None:
    gate = FloodGate(Limits(group_kept_for_new=5))
    assert gate.chat_wait(7, 0.0, edit=True) == 0
    gate.book(7, 0.0)
    assert gate.chat_wait(7, 0.5, edit=True) == gate.chat_wait(7, 0.5) == pytest.approx(0.5)
    assert gate.edits_held(0.5) == set()


@pytest.mark.parametrize("private_per_second", [1, 3])
def test_held_is_every_chat_that_must_wait_whatever_the_history(private_per_second: int) -> None:
    """``held`` looks only at the last second's private bookings and at the groups; it must
    still name exactly the chats that ``chat_wait`` would hold."""
    rng = random.Random(private_per_second)
    gate = FloodGate(Limits(global_per_second=10_000, private_per_second=private_per_second))
    chats = [*range(1, 40), -1, -2, -3]
    now = 0.0
    for _ in range(3_000):
        now += rng.expovariate(50)
        chat = rng.choice(chats)
        if gate.chat_wait(chat, now) == 0:
            gate.book(chat, now)
        if rng.random() < 0.01:
            gate.pause(rng.choice(chats), now + rng.uniform(0, 3))
        if rng.random() < 0.05:
            assert gate.held(now) == {c for c in chats if gate.chat_wait(c, now) > 0}
