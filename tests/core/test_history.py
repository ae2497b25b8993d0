"""The rules for one imported row: what is required, how times are read, what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.history import ImportedAnswer, RowError, parse_row

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Moscow")


def row(**fields: str) -> dict[str, str]:
    return {"ticket_id": "T-1", "answered_at": "2026-10-05T10:00:00Z", "score": "9", **fields}


def test_a_minimal_row() -> None:
    assert parse_row(row(), tz=TZ, now=NOW) == ImportedAnswer(
        ticket_id="T-1", answered_at=datetime(2026, 10, 5, 10, tzinfo=UTC), score=9
    )


def test_optional_fields_are_trimmed_and_empty_ones_are_none() -> None:
    answer = parse_row(
        row(agent="  Ivan ", team="", comment="  two\nlines  ", language="ru", company="\x00"),
        tz=TZ,
        now=NOW,
    )
    assert (answer.agent, answer.team, answer.language, answer.company) == (
        "Ivan",
        None,
        "ru",
        None,
    )
    assert answer.comment == "  two\nlines  "  # as typed, like a live comment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05T10:00:00+03:00", datetime(2026, 10, 5, 7, tzinfo=UTC)),
        ("2026-10-05 10:00:00Z", datetime(2026, 10, 5, 10, tzinfo=UTC)),
        ("2026-10-05T10:00:00.250-05:00", datetime(2026, 10, 5, 15, 0, 0, 250000, tzinfo=UTC)),
        ("2026-10-05", datetime(2026, 10, 4, 21, tzinfo=UTC)),  # local midnight, UTC+3
    ],
)
def test_times_with_an_offset_or_dates(text: str, expected: datetime) -> None:
    assert parse_row(row(answered_at=text), tz=TZ, now=NOW).answered_at == expected


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"ticket_id": "  "}, "ticket_id is empty"),
        ({"ticket_id": "x" * 256}, "ticket_id is longer than 255"),
        ({"agent": "x" * 256}, "agent is longer than 255"),
        ({"language": "x" * 17}, "language is longer than 16"),
        ({"answered_at": ""}, "answered_at is empty"),
        ({"answered_at": "2026-10-05T10:00:00"}, "no UTC offset"),
        ({"answered_at": "05.10.2026"}, "not an ISO 8601"),
        ({"answered_at": "2026-13-01"}, "not an ISO 8601"),
        ({"answered_at": "2026-11-18T12:00:01Z"}, "in the future"),
        ({"answered_at": "0001-01-01T00:00:00+14:00"}, "before the year 2000"),
        ({"answered_at": "1999-12-31"}, "before the year 2000"),
        ({"score": ""}, "score is empty"),
        ({"score": "11"}, "from 0 to 10"),
        ({"score": "-1"}, "from 0 to 10"),
        ({"score": "7.0"}, "from 0 to 10"),
        ({"score": "seven"}, "from 0 to 10"),
    ],
)
def test_refusals_name_the_column(fields: dict[str, str], reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        parse_row(row(**fields), tz=TZ, now=NOW)


@given(st.text(max_size=40))
def test_any_comment_is_stored_or_dropped_never_an_error(comment: str) -> None:
    answer = parse_row(row(comment=comment), tz=TZ, now=NOW)
    assert answer.comment is None or "\x00" not in answer.comment


@given(st.integers(min_value=0, max_value=10))
def test_every_valid_score(score: int) -> None:
    assert parse_row(row(score=f" {score} "), tz=TZ, now=NOW).score == score
