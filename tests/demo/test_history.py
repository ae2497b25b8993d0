"""The demo's earlier weeks: reproducible, inside the eleven weeks before the demo's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.history import ImportedAnswer
from bot.demo.history import ANSWERS_PER_WEEK, PAST_WEEKS, past_answers

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


def test_the_same_seed_gives_the_same_history_and_another_seed_another() -> None:
    assert past_answers(3, MONDAY) == past_answers(3, MONDAY)
    assert past_answers(3, MONDAY) != past_answers(4, MONDAY)


def test_every_earlier_week_has_answers_and_none_falls_in_the_demos_week() -> None:
    answers = past_answers(1, MONDAY)
    weeks = {(MONDAY - a.answered_at).days // 7 for a in answers}
    assert weeks == set(range(PAST_WEEKS))  # 0 is the week just before, 10 the first
    assert all(MONDAY - timedelta(weeks=PAST_WEEKS) <= a.answered_at < MONDAY for a in answers)
    low, high = ANSWERS_PER_WEEK
    assert low * PAST_WEEKS <= len(answers) <= high * PAST_WEEKS
    assert len({a.ticket_id for a in answers}) == len(answers)
    assert all(0 <= a.score <= 10 for a in answers)


def test_the_story_is_a_recovery_detractors_are_fewer_at_the_end() -> None:
    answers = past_answers(1, MONDAY)
    first = [a for a in answers if a.answered_at < MONDAY - timedelta(weeks=PAST_WEEKS - 3)]
    last = [a for a in answers if a.answered_at >= MONDAY - timedelta(weeks=3)]

    def detractor_share(group: list[ImportedAnswer]) -> float:
        return sum(a.score <= 6 for a in group) / len(group)

    assert detractor_share(first) > detractor_share(last)
