"""Signed /start payloads: Telegram's alphabet and length, expiry, and no forgery."""

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.deeplink import (
    MAX_PAYLOAD_LENGTH,
    LinkKind,
    _signature,
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


def test_a_signed_expiry_past_the_year_9999_is_refused_not_raised() -> None:
    """Eight base-36 digits reach the year 91367; only a holder of the key could sign one."""
    body = "s1_zzzzzzzz"
    assert read_payload(SECRET, f"{body}_{_signature(SECRET, body)}") is None


@given(st.text(max_size=80))
def test_garbage_never_reads_as_a_claim(payload: str) -> None:
    assert read_payload(SECRET, payload) is None


def test_link_shape() -> None:
    assert deep_link("acme_bot", "abc") == "https://t.me/acme_bot?start=abc"


PAYLOADS = st.builds(
    make_payload,
    st.just(SECRET),
    st.sampled_from(LinkKind),
    st.integers(min_value=1, max_value=MAX_SURVEY_ID),
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001  (hypothesis takes naive bounds)
        max_value=datetime(9000, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


@given(secret=st.binary(min_size=1, max_size=64), payload_args=st.data())
def test_round_trip_under_any_secret(secret: bytes, payload_args: st.DataObject) -> None:
    kind = payload_args.draw(st.sampled_from(LinkKind))
    target_id = payload_args.draw(st.integers(min_value=1, max_value=MAX_SURVEY_ID))
    payload = make_payload(secret, kind, target_id, LATER)
    assert read_payload(secret, payload) == read_payload(secret, payload)
    claim = read_payload(secret, payload)
    assert claim is not None and (claim.kind, claim.target_id) == (kind, target_id)
    assert read_payload(secret + b"x", payload) is None


@given(payload=PAYLOADS, data=st.data())
def test_any_single_character_change_is_refused(payload: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    other = data.draw(st.sampled_from(ALPHABET).filter(lambda char: char != payload[at]))
    assert read_payload(SECRET, payload[:at] + other + payload[at + 1 :]) is None


@given(payload=PAYLOADS, cut=st.integers(min_value=1, max_value=40), extra=st.text(max_size=5))
def test_truncated_or_extended_payloads_are_refused(payload: str, cut: int, extra: str) -> None:
    assert read_payload(SECRET, payload[:-cut]) is None
    if extra:
        assert read_payload(SECRET, payload + extra) is None or extra == "\n"


@given(payload=PAYLOADS)
def test_a_genuine_payload_with_a_trailing_newline_is_refused(payload: str) -> None:
    # Telegram never sends one; a claim read from anything but the exact payload is a forgery
    # in principle, even if it names the same target.
    assert read_payload(SECRET, payload + "\n") is None


@given(
    garbage=st.one_of(
        st.text(st.characters(exclude_categories=()), max_size=200),  # surrogates too
        st.text(ALPHABET, min_size=20, max_size=64),
        st.from_regex(r"[sc][0-9a-z]{1,7}_[0-9a-z]{1,8}_[A-Za-z0-9_-]{22}", fullmatch=True),
    )
)
def test_reading_garbage_never_raises_and_never_claims(garbage: str) -> None:
    assert read_payload(SECRET, garbage) is None
