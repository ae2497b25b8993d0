"""callback_data codec: round trips, 64-byte cap, and forged data never raising."""

from hypothesis import given
from hypothesis import strategies as st

from bot.core.callback import (
    MAX_CALLBACK_BYTES,
    ScorePress,
    SkipPress,
    decode,
    encode_score,
    encode_skip,
)
from bot.core.survey import MAX_SURVEY_ID

survey_ids = st.integers(min_value=1, max_value=MAX_SURVEY_ID)


@given(survey_ids, st.integers(min_value=0, max_value=10))
def test_score_round_trip_fits_telegram(survey_id: int, score: int) -> None:
    data = encode_score(survey_id, score)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == ScorePress(survey_id, score)


@given(survey_ids)
def test_skip_round_trip(survey_id: int) -> None:
    assert decode(encode_skip(survey_id)) == SkipPress(survey_id)


@given(st.text(max_size=100))
def test_arbitrary_data_decodes_to_none_or_a_valid_press(data: str) -> None:
    decoded = decode(data)
    if isinstance(decoded, ScorePress):
        assert 0 <= decoded.score <= 10
    assert decoded is None or decoded.survey_id > 0


def test_forged_scores_are_rejected() -> None:
    too_big = MAX_SURVEY_ID + 1  # would overflow the 32-bit id column on PostgreSQL
    forged = ["nps:1:11", "nps:1:-1", "nps:0:5", "nps:1:5:extra", "nps:a:5", "skip:", None, ""]
    for data in [*forged, f"nps:{too_big}:5", f"skip:{too_big}", "nps:99999999999:5"]:
        assert decode(data) is None
