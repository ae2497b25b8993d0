"""The running bot compiles its taxonomy (and loads the Russian dictionaries) when the first
score comes, in a thread, not at start-up: an idle bot keeps the 25-30 MiB, and the comment
that may follow a score finds the tagger ready."""

from __future__ import annotations

import threading

import pytest

from bot.themes.tagger import Tagger, WarmUpOnFirstScore
from storage.models import Survey
from tests.service_world import open_world

CLIENT = 5301


async def test_the_first_score_compiles_the_tagger_that_building_and_sending_did_not(
    database_url: str,
) -> None:
    async with open_world(database_url) as world:
        tagger = world.services.tagger
        survey_id = await world.close_ticket("T-W1", CLIENT)
        await world.deliver()
        assert not tagger.compiled and tagger._warming is None
        await world.score(survey_id, CLIENT, 3)
        thread = tagger._warming
        assert thread is not None, "the score did not start the warm-up"
        thread.join(timeout=60)
        assert tagger.compiled
        await world.private_text(CLIENT, "Оператор нагрубил")
        async with world.services.session_factory() as session:
            survey = await session.get(Survey, survey_id)
        assert survey is not None and survey.themes == "attitude"


async def test_a_comment_before_the_tagger_is_compiled_is_tagged_off_the_loop(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A comment whose score came before a restart finds the tagger not compiled: compiling
    (a quarter of a second) runs in a thread, so the loop goes on answering others."""
    monkeypatch.setattr(WarmUpOnFirstScore, "scored", _nothing)  # the score came earlier
    threads: list[bool] = []
    tag = Tagger.tag

    def spy(self: Tagger, text: str) -> tuple[str, ...]:
        threads.append(threading.current_thread() is threading.main_thread())
        return tag(self, text)

    monkeypatch.setattr(Tagger, "tag", spy)
    async with open_world(database_url) as world:
        survey_id = await world.close_ticket("T-W2", CLIENT)
        await world.deliver()
        await world.score(survey_id, CLIENT, 3)
        assert not world.services.tagger.compiled
        await world.private_text(CLIENT, "Оператор нагрубил")
        async with world.services.session_factory() as session:
            survey = await session.get(Survey, survey_id)
        assert survey is not None and survey.themes == "attitude"
    assert threads == [False]  # tagged once, not on the loop's thread


async def _nothing(*_args: object) -> None:
    """Stands in for the first score's warm-up."""
