"""Case rules: the checklist toggle, who may act as a manager, re-announcing, score history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.cases import CHECKLIST, ManagerAccess, Step, reannounce_due, score_history, toggled

ALERTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOURS_4 = timedelta(hours=4)
GROUP = -100123
OTHER_GROUP = -100456
BOSS, STRANGER = 7001, 7002

steps = st.sampled_from(list(Step))
values = st.lists(st.sampled_from([step.value for step in Step]), unique=True)


def test_checklist_is_every_step_in_service_order() -> None:
    assert [step.value for step in CHECKLIST] == [
        "acknowledge",
        "apologise",
        "fix",
        "tell",
        "thank",
    ]


def test_toggle_adds_in_checklist_order_and_removes() -> None:
    assert toggled([], Step.FIX) == ["fix"]
    assert toggled(["fix"], Step.ACKNOWLEDGE) == ["acknowledge", "fix"]
    assert toggled(["thank", "acknowledge"], Step.TELL) == ["acknowledge", "tell", "thank"]
    assert toggled(["acknowledge", "fix"], Step.ACKNOWLEDGE) == ["fix"]
    assert toggled(["fix"], Step.FIX) == []


def test_toggle_drops_unknown_and_duplicate_entries() -> None:
    assert toggled(["fix", "bogus", "fix"], Step.THANK) == ["fix", "thank"]


@given(values, steps)
def test_toggling_twice_is_identity_up_to_order(done: list[str], step: Step) -> None:
    twice = toggled(toggled(done, step), step)
    assert twice == [item.value for item in CHECKLIST if item.value in done]


@given(values, steps)
def test_toggle_flips_exactly_one_step_and_keeps_checklist_order(
    done: list[str], step: Step
) -> None:
    result = toggled(done, step)
    order = [item.value for item in CHECKLIST]
    assert result == sorted(result, key=order.index)
    assert len(result) == len(set(result))
    assert (step.value in result) != (step.value in done)
    assert set(result) ^ set(done) == {step.value}


@given(st.lists(steps))
def test_any_press_sequence_leaves_the_steps_pressed_an_odd_number_of_times(
    presses: list[Step],
) -> None:
    done: list[str] = []
    for step in presses:
        done = toggled(done, step)
    odd = [step.value for step in CHECKLIST if presses.count(step) % 2 == 1]
    assert done == odd


def test_with_a_user_list_only_listed_users_act_in_managers_chats_and_privately() -> None:
    access = ManagerAccess(chats=frozenset({GROUP}), users=frozenset({BOSS}))
    assert access.may_act_in(chat_id=GROUP, user_id=BOSS)
    assert not access.may_act_in(chat_id=GROUP, user_id=STRANGER)
    assert not access.may_act_in(chat_id=OTHER_GROUP, user_id=BOSS)  # not a managers' chat
    assert access.may_act_in(chat_id=BOSS, user_id=BOSS)  # private chat with the bot
    assert not access.may_act_in(chat_id=STRANGER, user_id=STRANGER)
    assert access.is_manager(BOSS)
    assert not access.is_manager(STRANGER, member_of_managers_chat=True)


def test_without_a_user_list_membership_of_a_managers_chat_is_the_credential() -> None:
    access = ManagerAccess(chats=frozenset({GROUP}), users=frozenset())
    assert access.may_act_in(chat_id=GROUP, user_id=STRANGER)
    assert not access.may_act_in(chat_id=OTHER_GROUP, user_id=STRANGER)
    assert not access.may_act_in(chat_id=STRANGER, user_id=STRANGER)  # private: nobody listed
    assert access.is_manager(STRANGER, member_of_managers_chat=True)
    assert not access.is_manager(STRANGER)


def test_no_chats_and_no_users_means_nobody() -> None:
    access = ManagerAccess(chats=frozenset(), users=frozenset())
    assert not access.may_act_in(chat_id=GROUP, user_id=BOSS)
    assert not access.may_act_in(chat_id=BOSS, user_id=BOSS)


def due(
    *,
    after: timedelta,
    last: timedelta | None = None,
    count: int = 0,
    every: timedelta | None = HOURS_4,
    most: int = 3,
) -> bool:
    return reannounce_due(
        alerted_at=ALERTED,
        last_announced_at=None if last is None else ALERTED + last,
        count=count,
        every=every,
        most=most,
        now=ALERTED + after,
    )


def test_first_reminder_is_due_once_the_interval_has_passed_since_the_alert() -> None:
    assert not due(after=timedelta(hours=3, minutes=59))
    assert due(after=HOURS_4)  # exactly on time counts
    assert due(after=timedelta(hours=30))


def test_later_reminders_count_from_the_last_one() -> None:
    assert not due(after=timedelta(hours=7), last=HOURS_4, count=1)
    assert due(after=timedelta(hours=8), last=HOURS_4, count=1)


def test_reminders_stop_at_the_maximum_or_when_switched_off() -> None:
    assert due(after=timedelta(hours=12), last=timedelta(hours=8), count=2, most=3)
    assert not due(after=timedelta(hours=12), last=timedelta(hours=8), count=3, most=3)
    assert not due(after=timedelta(days=3), count=0, most=0)
    assert not due(after=timedelta(days=3), every=None)


@pytest.mark.parametrize(
    ("scores", "shown"),
    [([], ""), ([3], "3"), ([9, 8, 3], "9 → 8 → 3"), ([10, 0], "10 → 0")],
)
def test_score_history_reads_oldest_first(scores: list[int], shown: str) -> None:
    assert score_history(scores) == shown
