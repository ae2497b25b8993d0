"""Signed /start payloads: Telegram's alphabet and length, and no forgery."""

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.core.deeplink import (
    MAX_PAYLOAD_LENGTH,
    deep_link,
    derive_secret,
    make_payload,
    read_payload,
)
from bot.core.survey import MAX_SURVEY_ID

SECRET = derive_secret("123456:TEST")


def test_ids_beyond_the_database_range_are_refused() -> None:
    signature = make_payload(SECRET, 42).split("_", 1)[1]
    assert read_payload(SECRET, f"s{'z' * 7}_{signature}") is None


@given(st.integers(min_value=1, max_value=MAX_SURVEY_ID))
def test_payload_round_trip_in_telegram_alphabet(survey_id: int) -> None:
    payload = make_payload(SECRET, survey_id)
    assert len(payload) <= MAX_PAYLOAD_LENGTH
    assert re.fullmatch(r"[A-Za-z0-9_-]+", payload)
    assert read_payload(SECRET, payload) == survey_id


def test_payload_of_another_survey_or_key_is_refused() -> None:
    payload = make_payload(SECRET, 42)
    forged = "s" + "43" + payload[payload.index("_") :]
    assert read_payload(SECRET, forged) is None
    assert read_payload(derive_secret("other:TOKEN"), payload) is None


@given(st.text(max_size=80))
def test_garbage_never_reads_as_a_survey(payload: str) -> None:
    assert read_payload(SECRET, payload) is None


def test_link_shape() -> None:
    assert deep_link("acme_bot", "abc") == "https://t.me/acme_bot?start=abc"
