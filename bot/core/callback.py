"""Codec for the inline-button payloads (Telegram caps callback_data at 64 bytes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.nps import is_valid_score
from bot.core.survey import MAX_SURVEY_ID

MAX_CALLBACK_BYTES = 64
_SCORE = re.compile(r"^nps:(?P<survey>[1-9][0-9]{0,9}):(?P<score>[0-9]{1,2})$")
_SKIP = re.compile(r"^skip:(?P<survey>[1-9][0-9]{0,9})$")
_RIGHTS = re.compile(r"^rights:(?P<action>stop|forget):(?P<answer>yes|no)$")
_LANGUAGE = re.compile(r"^lang:(?P<code>[a-z]{2})$")
_CASE = re.compile(
    r"^case:(?P<case>[1-9][0-9]{0,9}):(?P<action>take|resolve|reply|done|back|step)"
    r"(?::(?P<step>[0-9]))?$"
)
_RECOVERY = re.compile(r"^fix:(?P<case>[1-9][0-9]{0,9}):(?P<answer>yes|no)$")
_RATE = re.compile(r"^rate:(?P<survey>[1-9][0-9]{0,9}):(?P<question>[0-9]{1,2}):(?P<value>[1-5])$")
_ENPS = re.compile(r"^enps:(?P<invitation>[1-9][0-9]{0,9}):(?P<answer>[0-9]{1,2}|skip)$")


@dataclass(frozen=True, slots=True)
class ScorePress:
    """A tap on one of the 0..10 buttons."""

    survey_id: int
    score: int


@dataclass(frozen=True, slots=True)
class SkipPress:
    """A tap on "Skip" under the comment question."""

    survey_id: int


@dataclass(frozen=True, slots=True)
class RightsPress:
    """The answer to "/stop" or "/forget, are you sure?"."""

    action: str  # "stop" or "forget"
    confirmed: bool


@dataclass(frozen=True, slots=True)
class LanguagePress:
    """A language picked from the /language keyboard."""

    code: str


HINT = "hint"  # the label buttons under the score keyboard


@dataclass(frozen=True, slots=True)
class RatingPress:
    """A 1..5 answer to one of the operator's extra questions."""

    survey_id: int
    question: int
    value: int


def encode_rating(survey_id: int, question: int, value: int) -> str:
    """Build the callback_data of a 1..5 button."""
    return f"rate:{survey_id}:{question}:{value}"


@dataclass(frozen=True, slots=True)
class HintPress:
    """A tap on a label: the client needs a pointer, nothing is recorded."""


def encode_rights(action: str, *, confirmed: bool) -> str:
    """Build the callback_data of a confirmation button."""
    return f"rights:{action}:{'yes' if confirmed else 'no'}"


def encode_language(code: str) -> str:
    """Build the callback_data of a language button."""
    return f"lang:{code}"


def encode_score(survey_id: int, score: int) -> str:
    """Build the callback_data of a score button."""
    return f"nps:{survey_id}:{score}"


def encode_skip(survey_id: int) -> str:
    """Build the callback_data of the Skip button."""
    return f"skip:{survey_id}"


@dataclass(frozen=True, slots=True)
class CasePress:
    """A manager's button under an alert: take, resolve, reply, or a checklist step."""

    case_id: int
    action: str  # take / resolve / reply / step / done / back
    step: int | None = None  # index into bot.core.cases.CHECKLIST for "step"


def encode_case(case_id: int, action: str, step: int | None = None) -> str:
    """Build the callback_data of an alert button."""
    return f"case:{case_id}:{action}" + (f":{step}" if step is not None else "")


@dataclass(frozen=True, slots=True)
class RecoveryPress:
    """The client's answer to "did we make it right?"."""

    case_id: int
    answer: bool


def encode_recovery(case_id: int, *, answer: bool) -> str:
    """Build the callback_data of a yes/no button of the recovery question."""
    return f"fix:{case_id}:{'yes' if answer else 'no'}"


@dataclass(frozen=True, slots=True)
class EnpsPress:
    """An employee's 0..10 answer, or Skip under the comment question, in an eNPS round.

    A kind of its own: an invitation id is not a survey id, and an eNPS answer must never
    reach the client survey's code (its alerts, its digest).
    """

    invitation_id: int
    score: int | None  # None: Skip


def encode_enps(invitation_id: int, score: int | None) -> str:
    """Build the callback_data of an eNPS score button (``None``: the Skip button)."""
    return f"enps:{invitation_id}:{'skip' if score is None else score}"


Press = (
    ScorePress
    | SkipPress
    | RightsPress
    | LanguagePress
    | HintPress
    | RatingPress
    | CasePress
    | RecoveryPress
    | EnpsPress
)


def decode(data: str | None) -> Press | None:  # noqa: PLR0911  (one return per kind)
    """Parse callback_data strictly; anything unexpected is None, never an exception.

    Every payload we make is ASCII, so anything else is forged, and is refused before it is
    measured: a lone surrogate cannot even be encoded to count its bytes.
    """
    if data is None or not data.isascii() or len(data) > MAX_CALLBACK_BYTES:
        return None
    if match := _SCORE.fullmatch(data):
        survey_id, score = int(match["survey"]), int(match["score"])
        if not is_valid_score(score) or survey_id > MAX_SURVEY_ID:
            return None
        return ScorePress(survey_id=survey_id, score=score)
    if (match := _SKIP.fullmatch(data)) and int(match["survey"]) <= MAX_SURVEY_ID:
        return SkipPress(survey_id=int(match["survey"]))
    if match := _RIGHTS.fullmatch(data):
        return RightsPress(action=match["action"], confirmed=match["answer"] == "yes")
    if match := _LANGUAGE.fullmatch(data):
        return LanguagePress(code=match["code"])
    if data == HINT:
        return HintPress()
    if (match := _RATE.fullmatch(data)) and int(match["survey"]) <= MAX_SURVEY_ID:
        return RatingPress(int(match["survey"]), int(match["question"]), int(match["value"]))
    if match := _ENPS.fullmatch(data):
        return _decode_enps(int(match["invitation"]), match["answer"])
    return _decode_manager_side(data)


def _decode_enps(invitation_id: int, answer: str) -> EnpsPress | None:
    if invitation_id > MAX_SURVEY_ID:
        return None
    if answer == "skip":
        return EnpsPress(invitation_id, None)
    return EnpsPress(invitation_id, int(answer)) if is_valid_score(int(answer)) else None


def _decode_manager_side(data: str) -> CasePress | RecoveryPress | None:
    """Alert buttons and the recovery question, which carry a case id."""
    if (match := _CASE.fullmatch(data)) and int(match["case"]) <= MAX_SURVEY_ID:
        step = match["step"]
        if (match["action"] == "step") != (step is not None):
            return None  # a step press needs its step, and only it has one
        return CasePress(int(match["case"]), match["action"], int(step) if step else None)
    if (match := _RECOVERY.fullmatch(data)) and int(match["case"]) <= MAX_SURVEY_ID:
        return RecoveryPress(int(match["case"]), answer=match["answer"] == "yes")
    return None
