"""Employee NPS rules: round timing, catch-up, the anonymity threshold, the press codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.callback import EnpsPress, decode, encode_enps
from bot.core.deeplink import LinkKind, make_payload, read_payload
from bot.core.enps import (
    MIN_ANONYMOUS_GROUP,
    effective_min_group,
    plan_round,
    reportable,
    round_figures,
    round_to_open,
)

FIRED = datetime(2027, 1, 1, 7, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
CREATED = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_round_on_time_reminds_and_closes_after_its_schedule() -> None:
    plan = plan_round(scheduled_for=FIRED, now=FIRED, duration=WEEK, remind_after=timedelta(days=3))
    assert plan.opened_at == FIRED
    assert plan.remind_at == FIRED + timedelta(days=3)
    assert plan.closes_at == FIRED + WEEK


def test_a_late_round_keeps_its_closing_time_and_reminds_at_once_if_overdue() -> None:
    late = FIRED + timedelta(days=4)
    plan = plan_round(scheduled_for=FIRED, now=late, duration=WEEK, remind_after=timedelta(days=3))
    assert plan.closes_at == FIRED + WEEK
    assert plan.remind_at == late


def test_a_reminder_at_or_after_the_close_is_dropped() -> None:
    plan = plan_round(scheduled_for=FIRED, now=FIRED, duration=WEEK, remind_after=WEEK)
    assert plan.remind_at is None
    assert (
        plan_round(scheduled_for=FIRED, now=FIRED, duration=WEEK, remind_after=None).remind_at
        is None
    )
    with pytest.raises(ValueError, match="some time"):
        plan_round(scheduled_for=FIRED, now=FIRED, duration=timedelta(0), remind_after=None)


def test_the_due_run_is_opened_caught_up_while_it_would_be_open_then_skipped() -> None:
    assert round_to_open(FIRED, created_at=CREATED, now=FIRED, duration=WEEK) == FIRED
    days_later = FIRED + timedelta(days=6)
    assert round_to_open(FIRED, created_at=CREATED, now=days_later, duration=WEEK) == FIRED
    assert round_to_open(FIRED, created_at=CREATED, now=FIRED + WEEK, duration=WEEK) is None
    assert round_to_open(None, created_at=CREATED, now=FIRED, duration=WEEK) is None


def test_a_run_before_the_campaign_existed_is_not_its_round() -> None:
    assert (
        round_to_open(FIRED, created_at=FIRED + timedelta(seconds=1), now=FIRED, duration=WEEK)
        is None
    )


def test_the_minimum_group_never_goes_below_three() -> None:
    assert effective_min_group(1) == MIN_ANONYMOUS_GROUP == 3
    assert effective_min_group(5) == 5
    assert not reportable(2, 1)
    assert reportable(3, 1)


@given(st.lists(st.integers(0, 10), max_size=4), st.integers(1, 10))
def test_below_the_minimum_nothing_about_scores_is_reported(
    scores: list[int], minimum: int
) -> None:
    figures = round_figures(
        scores=scores,
        invited=10,
        answered=len(scores),
        unreachable=0,
        min_group=max(minimum, len(scores) + 1),
        previous_scores=[10] * 20,
    )
    assert figures.summary is None and figures.distribution is None and figures.change is None
    assert not figures.reportable
    assert figures.response_rate == len(scores) / 10


def test_at_the_minimum_the_round_and_its_change_are_reported() -> None:
    figures = round_figures(
        scores=[10, 9, 9, 7, 3],
        invited=6,
        answered=5,
        unreachable=1,
        min_group=5,
        previous_scores=[10, 10, 10, 10, 10],
    )
    assert figures.summary is not None and figures.summary.nps == pytest.approx(40.0)
    assert figures.distribution == (0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 1)
    assert figures.change is not None and figures.change.difference == pytest.approx(-60.0)


def test_a_change_against_a_small_previous_round_would_leak_it_and_is_withheld() -> None:
    figures = round_figures(
        scores=[10, 9, 9, 7, 3],
        invited=5,
        answered=5,
        unreachable=0,
        min_group=5,
        previous_scores=[0, 0],
    )
    assert figures.reportable and figures.change is None
    assert figures.had_previous and not figures.previous_reportable


def test_nobody_invited_has_no_response_rate() -> None:
    figures = round_figures(
        scores=[], invited=0, answered=0, unreachable=2, min_group=5, previous_scores=None
    )
    assert figures.response_rate is None and not figures.had_previous


@given(st.integers(1, 2**31 - 1), st.one_of(st.none(), st.integers(0, 10)))
def test_enps_presses_round_trip(invitation_id: int, score: int | None) -> None:
    data = encode_enps(invitation_id, score)
    assert len(data.encode()) <= 64
    assert decode(data) == EnpsPress(invitation_id, score)


@pytest.mark.parametrize(
    "data", ["enps:0:5", "enps:1:11", "enps:1:-1", "enps:2147483648:5", "enps:1:skip:x", "enps:1"]
)
def test_forged_enps_presses_are_refused(data: str) -> None:
    assert decode(data) is None


def test_a_campaign_link_is_its_own_kind() -> None:
    secret = b"k" * 32
    payload = make_payload(secret, LinkKind.CAMPAIGN, 42, FIRED)
    claim = read_payload(secret, payload)
    assert claim is not None and claim.kind is LinkKind.CAMPAIGN and claim.target_id == 42
    assert payload.startswith("e")
