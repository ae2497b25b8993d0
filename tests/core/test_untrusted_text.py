"""Every reader of typed or received text in bot/core, fed any text, lone surrogates included.

Each answers with its own "invalid" (None, or its own error) and nothing else: a
``UnicodeEncodeError`` or an ``OverflowError`` escaping one is a traceback where the person who
typed it should have read what was wrong. Button data and /start payloads come from Telegram;
periods from managers' chats; ages, routes and import rows from operators.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from bot.core import callback, deeplink, history, periods, retention, routing

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=80)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Moscow")
SURROGATE = "\ud800"


@given(ANY_TEXT)
@example(SURROGATE)
def test_button_data(text: str) -> None:
    callback.decode(text)  # None or a press, never an exception


@given(ANY_TEXT)
@example(SURROGATE)
def test_start_payloads(text: str) -> None:
    assert deeplink.read_payload(b"k" * 32, text) is None


@given(ANY_TEXT)
@example(SURROGATE)
@example("0000-05")
def test_periods(text: str) -> None:
    with contextlib.suppress(periods.PeriodError):
        periods.parse_period(text, now=NOW, tz=TZ)


@given(ANY_TEXT)
@example(SURROGATE)
@example("9999y")
def test_retention_ages(text: str) -> None:
    with contextlib.suppress(retention.AgeError):
        retention.parse_age(text, now=NOW).cutoff(NOW)


@given(ANY_TEXT)
@example(f"team:{SURROGATE}=-100")
def test_alert_routes(text: str) -> None:
    with contextlib.suppress(ValueError):
        routing.parse_routes(text)


@given(st.dictionaries(st.sampled_from(history.COLUMNS), ANY_TEXT))
@example({"ticket_id": SURROGATE, "answered_at": "2026-01-01", "score": "5"})
def test_import_rows(row: dict[str, str]) -> None:
    with contextlib.suppress(history.RowError):
        history.parse_row(row, tz=TZ, now=NOW)
