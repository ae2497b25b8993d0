"""Counting what clients answer, once the answer's transaction has committed.

Answer listeners run inside the answer's transaction. A handler retried through a database
outage runs them again, so counting there would count a rolled-back answer too; the counters
move on commit instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.nps import Category, classify
from storage.survey_queries import SurveyContext

COMMENT_KINDS = ("text", "voice", "none")


def on_commit(session: AsyncSession, count: Callable[[], None]) -> None:
    """Call ``count`` once the session's transaction commits; never if it rolls back."""
    event.listen(session.sync_session, "after_commit", lambda _session: count(), once=True)


@dataclass(frozen=True, slots=True)
class AnswerMetrics:
    """A ``bot.survey.answers.AnswerListener``: scores by band, completions by comment kind."""

    by_band: Mapping[Category, Counter]
    by_comment: Mapping[str, Counter]  # COMMENT_KINDS

    async def scored(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """A first score: one answer in its band."""
        score = context.survey.score
        if score is not None:
            on_commit(session, self.by_band[classify(score)].inc)

    async def commented(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """The survey was completed: with a text, a voice message, or Skip."""
        survey = context.survey
        if survey.voice_file_id:
            kind = "voice"
        elif survey.comment is not None:
            kind = "text"
        else:
            kind = "none"
        on_commit(session, self.by_comment[kind].inc)

    async def rescored(
        self, session: AsyncSession, context: SurveyContext, previous: int, now: datetime
    ) -> None:
        """A changed score is the same answer: not counted again."""
