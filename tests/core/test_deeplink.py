"""Signed /start payloads: Telegram's alphabet and length, expiry, and no forgery."""

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.deeplink import (
    MAX_PAYLOAD_LENGTH,
    LinkKind,
    deep_link,
    derive_secret,
    make_payload,
    read_payload,
)
from bot.core.survey import MAX_SURVEY_ID

SECRET = derive_secret("123456:TEST")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


@given(
    st.sampled_from(LinkKind),
    st.integers(min_value=1, max_value=MAX_SURVEY_ID),
    st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001  (hypothesis takes naive bounds)
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_payload_round_trip_in_telegram_alphabet(
    kind: LinkKind, target_id: int, expires_at: datetime
) -> None:
    payload = make_payload(SECRET, kind, target_id, expires_at)
    assert len(payload) <= MAX_PAYLOAD_LENGTH
    assert re.fullmatch(r"[A-Za-z0-9_-]+", payload)
    claim = read_payload(SECRET, payload)
    assert claim is not None
    assert (claim.kind, claim.target_id) == (kind, target_id)
    assert claim.expires_at == expires_at.replace(microsecond=0)


def test_expiry() -> None:
    claim = read_payload(SECRET, make_payload(SECRET, LinkKind.SURVEY, 42, LATER))
    assert claim is not None
    assert not claim.expired(NOW)
    assert claim.expired(LATER)


def test_altered_id_kind_expiry_or_key_is_refused() -> None:
    payload = make_payload(SECRET, LinkKind.SURVEY, 42, LATER)
    body, signature = payload[:-23], payload[-22:]
    kind_id, expiry = body.split("_")
    assert read_payload(SECRET, f"s43_{expiry}_{signature}") is None
    assert read_payload(SECRET, f"c{kind_id[1:]}_{expiry}_{signature}") is None
    assert read_payload(SECRET, f"{kind_id}_zzzzzzz_{signature}") is None  # extended lifetime
    assert read_payload(derive_secret("other:TOKEN"), payload) is None


def test_ids_beyond_the_database_range_are_refused() -> None:
    signature = make_payload(SECRET, LinkKind.SURVEY, 42, LATER)[-22:]
    assert read_payload(SECRET, f"s{'z' * 7}_1_{signature}") is None


@given(st.text(max_size=80))
def test_garbage_never_reads_as_a_claim(payload: str) -> None:
    assert read_payload(SECRET, payload) is None


def test_link_shape() -> None:
    assert deep_link("acme_bot", "abc") == "https://t.me/acme_bot?start=abc"
