"""Earlier weeks of answers for the demo, stored as ``npsbot import`` stores them.

A digest with one week has no trend: a chart of one dot and no change against last week. The
demo therefore starts from eleven weeks of past answers, imported the way an operator brings in
the history of the tool npsbot replaces, so nothing is sent for them and the current week's
numbers (and the CSV) are only the clients who take part in the demo.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.history import ImportedAnswer
from bot.demo.cast import AGENTS, CHANNELS, COMPANIES, DETRACTOR_SCORES, DETRACTOR_WEIGHTS, TEAMS
from storage.history import store_answers

PAST_WEEKS: Final = 11  # the chart shows 12 weeks: these and the demo's own
ANSWERS_PER_WEEK: Final = (20, 32)
# The team's story: a rough autumn (three detractors in ten) that the closed loop turns around.
DETRACTOR_SHARE: Final = (0.32, 0.16)
PASSIVE_SHARE: Final = 0.28


def _score(rng: random.Random, detractor_share: float) -> int:
    roll = rng.random()
    if roll < detractor_share:
        return rng.choices(DETRACTOR_SCORES, weights=DETRACTOR_WEIGHTS)[0]
    if roll < detractor_share + PASSIVE_SHARE:
        return rng.choice((7, 8))
    return rng.choice((9, 10, 10))


def past_answers(seed: int, week_start: datetime) -> list[ImportedAnswer]:
    """Answers of the ``PAST_WEEKS`` weeks before the week that starts at ``week_start``."""
    rng = random.Random(f"history-{seed}")  # noqa: S311  (a demo's dice, not a secret)
    first, last = DETRACTOR_SHARE
    answers: list[ImportedAnswer] = []
    for age in range(PAST_WEEKS, 0, -1):
        monday = week_start - timedelta(weeks=age)
        share = last + (first - last) * (age - 1) / (PAST_WEEKS - 1) + rng.uniform(-0.05, 0.05)
        for number in range(rng.randint(*ANSWERS_PER_WEEK)):
            day = monday + timedelta(days=rng.randrange(5))  # Monday to Friday
            moment = datetime.combine(day.date(), time(9), tzinfo=week_start.tzinfo)
            answers.append(
                ImportedAnswer(
                    ticket_id=f"H-{PAST_WEEKS - age + 1:02d}{number + 1:02d}",
                    answered_at=moment + timedelta(minutes=rng.randrange(9 * 60)),
                    score=_score(rng, max(share, 0.0)),
                    agent=rng.choice(AGENTS),
                    team=rng.choice(TEAMS),
                    channel=rng.choice(CHANNELS),
                    company=rng.choice(COMPANIES),
                )
            )
    return answers


async def import_history(engine: AsyncEngine, answers: list[ImportedAnswer], now: datetime) -> int:
    """Store the answers in one transaction; returns how many were stored."""
    async with engine.begin() as connection:
        outcome = await store_answers(connection, list(enumerate(answers, start=2)), now=now)
    return outcome.imported
