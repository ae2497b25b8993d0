"""Every adapter against its helpdesk's documented payloads: closing, reopening, ignoring,
missing fields, and signatures that must not pass."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.tickets import TicketClosed
from bot.intake.adapters import Ignored, PayloadError, SignatureError, TicketReopened
from tests.intake.cases import CASES, NOW, SENT_AT, SKEW, TIMED, Case, encode

by_name = pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)


@by_name
def test_closing_becomes_ticket_closed_with_the_payloads_own_time(case: Case) -> None:
    body = encode(case.body())
    headers = case.headers(body)
    adapter = case.adapter()
    adapter.verify(headers=headers, body=body, now=NOW)
    event = adapter.parse(headers=headers, body=body)
    assert isinstance(event, TicketClosed)
    assert event.ticket_id == case.ticket_id
    assert event.customer.helpdesk_id == case.customer_id
    assert event.closed_at == case.closed_at


@by_name
def test_non_closing_status_change_is_a_reopening(case: Case) -> None:
    body = encode(case.body(case.reopen))
    event = case.adapter().parse(headers=case.headers(body), body=body)
    assert event == TicketReopened(case.ticket_id)


@by_name
def test_other_events_are_ignored_with_a_reason(case: Case) -> None:
    body = encode(case.body(case.ignore))
    headers = case.headers(body) | case.ignore_headers
    event = case.adapter().parse(headers=headers, body=body)
    assert isinstance(event, Ignored)
    assert event.reason


@by_name
def test_missing_field_is_a_payload_error_naming_it(case: Case) -> None:
    body = encode(case.body({case.required: ...}))
    with pytest.raises(PayloadError, match=case.required.replace(".", r"\.")):
        case.adapter().parse(headers=case.headers(body), body=body)


@by_name
@pytest.mark.parametrize("body", [b'{"ticket": ', b"\xff\xfe", b"[1, 2]", b""])
def test_malformed_body_is_a_payload_error(case: Case, body: bytes) -> None:
    with pytest.raises(PayloadError, match="JSON"):
        case.adapter().parse(headers=case.headers(body), body=body)


@by_name
def test_signature_with_another_secret_is_refused(case: Case) -> None:
    body = encode(case.body())
    headers = case.headers(body, secret="not-" + case.secret)
    with pytest.raises(SignatureError):
        case.adapter().verify(headers=headers, body=body, now=NOW)


@by_name
def test_missing_signature_is_refused(case: Case) -> None:
    body = encode(case.body())
    with pytest.raises(SignatureError, match="missing"):
        case.adapter().verify(headers={}, body=body, now=NOW)


@by_name
def test_good_signature_over_a_body_one_byte_off_is_refused(case: Case) -> None:
    if case.name == "freshdesk":
        pytest.skip("Freshdesk cannot sign bodies: its shared secret does not cover them")
    body = encode(case.body())
    headers = case.headers(body)
    tampered = body.replace(b'"5', b'"6', 1) if b'"5' in body else body[:-1] + b" "
    assert tampered != body and len(tampered) == len(body)
    with pytest.raises(SignatureError, match="does not match"):
        case.adapter().verify(headers=headers, body=tampered, now=NOW)


@by_name
def test_header_names_are_case_insensitive(case: Case) -> None:
    body = encode(case.body())
    headers = {name.lower(): value for name, value in case.headers(body).items()}
    case.adapter().verify(headers=headers, body=body, now=NOW)


@pytest.mark.parametrize("case", TIMED, ids=lambda case: case.name)
@pytest.mark.parametrize("offset", [SKEW * 2, -SKEW * 2])
def test_stale_or_future_timestamp_is_refused(case: Case, offset: timedelta) -> None:
    body = encode(case.body())
    headers = case.headers(body, sent_at=SENT_AT - offset)
    with pytest.raises(SignatureError, match="stale"):
        case.adapter().verify(headers=headers, body=body, now=NOW)


@pytest.mark.parametrize("case", TIMED, ids=lambda case: case.name)
def test_unreadable_timestamp_is_refused(case: Case) -> None:
    body = encode(case.body())
    headers = case.headers(body)
    stamp = next(name for name in headers if name.endswith("Timestamp"))
    headers[stamp] = "yesterday"
    with pytest.raises(SignatureError):
        case.adapter().verify(headers=headers, body=body, now=NOW)
