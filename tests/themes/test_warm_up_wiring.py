"""The running bot compiles its taxonomy (and loads the Russian dictionaries) when the first
score comes, in a thread, not at start-up: an idle bot keeps the 25-30 MiB, and the comment
that may follow a score finds the tagger ready."""

from __future__ import annotations

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
