"""callback_data codec: round trips, 64-byte cap, and forged data never raising."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.core.callback import (
    MAX_CALLBACK_BYTES,
    CasePress,
    EnpsPress,
    HintPress,
    LanguagePress,
    RatingPress,
    RecoveryPress,
    RightsPress,
    ScorePress,
    SkipPress,
    decode,
    encode_case,
    encode_recovery,
    encode_score,
    encode_skip,
)
from bot.core.cases import CHECKLIST
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


CASE_ACTIONS = ("take", "resolve", "reply", "done", "back")


def assert_valid(decoded: object) -> None:
    """Whatever decode returns is None or a press whose fields are in range."""
    match decoded:
        case None | HintPress():
            pass
        case ScorePress(survey_id=survey_id, score=score):
            assert 1 <= survey_id <= MAX_SURVEY_ID and 0 <= score <= 10
        case SkipPress(survey_id=survey_id):
            assert 1 <= survey_id <= MAX_SURVEY_ID
        case RatingPress(survey_id=survey_id, value=value):
            assert 1 <= survey_id <= MAX_SURVEY_ID and 1 <= value <= 5
        case RightsPress(action=action):
            assert action in {"stop", "forget"}
        case LanguagePress(code=code):
            assert len(code) == 2 and code.isalpha()
        case CasePress(case_id=case_id, action=action, step=step):
            assert 1 <= case_id <= MAX_SURVEY_ID
            assert (action == "step" and step is not None and 0 <= step <= 9) or (
                action in CASE_ACTIONS and step is None
            )
        case RecoveryPress(case_id=case_id, answer=answer):
            assert 1 <= case_id <= MAX_SURVEY_ID and isinstance(answer, bool)
        case EnpsPress(invitation_id=invitation_id, score=score):
            assert 1 <= invitation_id <= MAX_SURVEY_ID and score in {None, *range(11)}
        case _:
            pytest.fail(f"unexpected press {decoded!r}")


# Any text, lone surrogates included: a forged update can carry one as a JSON escape.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=100)


@given(ANY_TEXT)
@example("\ud800")
@example("nps:1:\udfff")
@example("é" * 40)  # 80 bytes in 40 characters
def test_arbitrary_data_decodes_to_none_or_a_valid_press(data: str) -> None:
    assert_valid(decode(data))


def test_text_that_cannot_be_encoded_is_not_a_press() -> None:
    for data in ("\ud800", "nps:1:5\ud800", "\udfffskip:1", "lang:e\ud800"):
        assert decode(data) is None


@given(
    st.sampled_from(["nps", "skip", "rate", "case", "fix", "rights", "lang"]),
    st.lists(
        st.one_of(
            st.integers(min_value=-1, max_value=2 * MAX_SURVEY_ID).map(str),
            st.sampled_from([*CASE_ACTIONS, "step", "yes", "no", "stop", "maybe", "", "en"]),
        ),
        max_size=4,
    ),
)
def test_prefixed_data_decodes_to_none_or_a_valid_press(prefix: str, parts: list[str]) -> None:
    assert_valid(decode(":".join([prefix, *parts])))


def test_forged_scores_are_rejected() -> None:
    too_big = MAX_SURVEY_ID + 1  # would overflow the 32-bit id column on PostgreSQL
    forged = ["nps:1:11", "nps:1:-1", "nps:0:5", "nps:1:5:extra", "nps:a:5", "skip:", None, ""]
    for data in [*forged, f"nps:{too_big}:5", f"skip:{too_big}", "nps:99999999999:5"]:
        assert decode(data) is None


case_ids = st.integers(min_value=1, max_value=MAX_SURVEY_ID)


@given(case_ids, st.sampled_from(CASE_ACTIONS))
def test_case_round_trip_fits_telegram(case_id: int, action: str) -> None:
    data = encode_case(case_id, action)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == CasePress(case_id, action, None)


@given(case_ids, st.integers(min_value=0, max_value=len(CHECKLIST) - 1))
def test_checklist_step_round_trip(case_id: int, step: int) -> None:
    data = encode_case(case_id, "step", step)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == CasePress(case_id, "step", step)


@given(case_ids, st.booleans())
def test_recovery_round_trip(case_id: int, answer: bool) -> None:
    data = encode_recovery(case_id, answer=answer)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == RecoveryPress(case_id, answer=answer)


def test_case_and_recovery_examples() -> None:
    assert encode_case(12, "take") == "case:12:take"
    assert encode_case(12, "step", 0) == "case:12:step:0"
    assert decode("case:12:step:0") == CasePress(12, "step", 0)
    assert encode_recovery(5, answer=False) == "fix:5:no"
    assert decode("fix:5:no") == RecoveryPress(5, answer=False)
    assert decode("fix:5:yes") == RecoveryPress(5, answer=True)


def test_forged_case_and_recovery_data_are_rejected() -> None:
    too_big = MAX_SURVEY_ID + 1
    forged = [
        "case:1:step",  # a step press without its step
        "case:1:take:3",  # only a step press carries one
        "case:1:done:0",
        "case:0:take",
        "case:01:take",
        "case:-1:take",
        "case:1:steal",
        "case:1:step:10",
        "case:1:step:x",
        "case:1",
        "case::take",
        f"case:{too_big}:take",
        f"case:{too_big}:step:1",
        "case:99999999999:take",
        "fix:1:maybe",
        "fix:0:yes",
        "fix:1",
        "fix:1:yes:no",
        f"fix:{too_big}:yes",
        "fix:1:YES",
    ]
    for data in forged:
        assert decode(data) is None, data


def test_largest_ids_still_decode() -> None:
    assert decode(f"case:{MAX_SURVEY_ID}:resolve") == CasePress(MAX_SURVEY_ID, "resolve")
    assert decode(f"fix:{MAX_SURVEY_ID}:yes") == RecoveryPress(MAX_SURVEY_ID, answer=True)


def test_a_trailing_newline_is_not_a_valid_press() -> None:
    for data in ("nps:1:5\n", "skip:1\n", "case:1:take\n", "fix:1:yes\n", "rate:1:0:5\n"):
        assert decode(data) is None
