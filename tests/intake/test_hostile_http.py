"""Hostile requests at the generic intake, and forged or replayed webhooks: always a clear 4xx
(or a 2xx for a valid body), never a 500, and a refused request stores nothing.

The adapters' own bodies are fuzzed in test_fuzz.py; this covers the generic JSON endpoints and
tampering with signatures and timestamps on every signed route.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.intake.bodylimit import DEFAULT_MAX_BODY_BYTES
from storage.db import SessionFactory
from storage.models import Customer, Ticket
from tests.intake.cases import CASES, NOW, SENT_AT, SKEW, TIMED, Case, encode
from tests.intake.conftest import API_TOKEN, GENERIC_SECRET, stored
from tests.intake.hostile import GARBAGE, HOSTILE_TEXT, JSON_VALUES, dumps, generic_signature

BEARER = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
TICKET: dict[str, Any] = {
    "ticket_id": "T-1",
    "closed_at": "2026-11-18T09:45:00Z",
    "customer": {"id": "c-1", "name": "Anna", "phone": "+79001234567", "language": "ru"},
    "agent": "Ivan",
    "team": "L2",
    "channel": "email",
    "tags": ["vip"],
}
FIELDS = [("ticket_id",), ("customer", "id"), ("customer", "name"), ("agent",), ("tags", 0)]
ENDPOINTS = ["/api/v1/tickets/closed", "/api/v1/tickets/reopened", "/api/v1/customers/connect-link"]
DB_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one database for all
)


@st.composite
def near_tickets(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ticket with hostile text in some fields, or a field removed or retyped."""
    data = copy.deepcopy(TICKET)
    data["ticket_id"] = f"T-{draw(st.integers(0, 10**6))}"  # new tickets, not only retries
    for path in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = draw(st.one_of(HOSTILE_TEXT, HOSTILE_TEXT, JSON_VALUES))
    if draw(st.booleans()):
        data.pop(draw(st.sampled_from(sorted(data))))
    return data


def generic_bodies() -> st.SearchStrategy[bytes]:
    documents = st.one_of(near_tickets(), near_tickets(), JSON_VALUES)
    return st.one_of(GARBAGE, st.builds(dumps, documents, escaped=st.booleans()))


def clear_refusal(response: httpx.Response) -> None:
    """A 4xx names the problem in ``error`` (and per field for a 422)."""
    assert response.headers["Content-Type"] == "application/json"
    problem = response.json()
    assert isinstance(problem["error"], str) and problem["error"].strip()
    if response.status_code == 422:
        assert problem["fields"] and all(field["field"] for field in problem["fields"])


@pytest.mark.parametrize("path", ENDPOINTS)
@DB_SETTINGS
@given(data=st.data())
async def test_generic_endpoints_answer_hostile_bodies_without_500(
    client: httpx.AsyncClient, sessions: SessionFactory, path: str, data: st.DataObject
) -> None:
    body = data.draw(generic_bodies())
    before = await stored(sessions)
    response = await client.post(path, content=body, headers=BEARER)
    allowed = {413} if len(body) > DEFAULT_MAX_BODY_BYTES else {200, 202, 400, 422}
    assert response.status_code in allowed, response.text
    if response.status_code >= 400:
        clear_refusal(response)
        assert await stored(sessions) == before


def as_stored(text: str) -> str:
    """What the intake keeps of a text: NUL dropped, half an emoji marked U+FFFD."""
    return "".join(
        "\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in text if char != "\x00"
    )


@DB_SETTINGS
@given(ticket=near_tickets())
async def test_an_accepted_ticket_is_stored_exactly_as_sent_without_nul(
    client: httpx.AsyncClient, sessions: SessionFactory, ticket: dict[str, Any]
) -> None:
    body = dumps(ticket, escaped=True)  # a lone surrogate travels as an escape
    response = await client.post("/api/v1/tickets/closed", content=body, headers=BEARER)
    assert response.status_code in {202, 422}, response.text
    if response.status_code == 422:
        clear_refusal(response)
        return
    ticket_id = as_stored(ticket["ticket_id"])
    customer_id = as_stored(ticket["customer"]["id"])
    async with sessions() as session:
        found = await session.exec(select(Ticket).where(Ticket.external_id == ticket_id))
        assert found.one().external_id == ticket_id
        customer = (
            await session.exec(select(Customer).where(Customer.helpdesk_id == customer_id))
        ).one()
    assert response.json()["ticket_id"] == ticket_id
    name = ticket["customer"].get("name")
    if isinstance(name, str) and as_stored(name):
        assert customer.name == as_stored(name)  # markup, bidi, zero-width, emoji: as sent


def raw(headers: dict[str, str]) -> dict[bytes, bytes]:
    """Headers as UTF-8 bytes: a forger is not bound to ASCII (httpx would refuse it)."""
    return {
        name.encode(): value.encode("utf-8", "surrogatepass") for name, value in headers.items()
    }


STAMPS = st.one_of(
    st.integers(min_value=int(SKEW.total_seconds()) + 1, max_value=10**12).flatmap(
        lambda off: st.sampled_from(
            [str(int(NOW.timestamp()) + off), str(max(0, int(NOW.timestamp()) - off))]
        )
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    st.sampled_from(["", "-1", "1e9", "0x10", "٣٤٥", "99999999999999999999999", "NaN"]),
)


@DB_SETTINGS
@given(stamp=STAMPS, flip=st.integers(min_value=0, max_value=10_000))
async def test_generic_signature_tampered_or_replayed_is_401_storing_nothing(
    client: httpx.AsyncClient, sessions: SessionFactory, stamp: str, flip: int
) -> None:
    body = encode(TICKET)
    good = generic_signature(body, str(int(SENT_AT.timestamp())))
    forged = [
        generic_signature(body, stamp),  # stale, future or not a timestamp at all
        generic_signature(body, str(int(SENT_AT.timestamp())), secret="x" + GENERIC_SECRET),
        good | {"X-Npsbot-Timestamp": str(int(SENT_AT.timestamp()) + 1)},
    ]
    tampered = bytearray(body)
    tampered[flip % len(body)] ^= 1 << (flip % 8)
    for headers, sent in [*((h, body) for h in forged), (good, bytes(tampered))]:
        response = await client.post("/api/v1/tickets/closed", content=sent, headers=raw(headers))
        assert response.status_code in {400, 401}, response.text
        clear_refusal(response)
    assert await stored(sessions) == (0, 0, 0)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@DB_SETTINGS
@given(
    flip=st.integers(min_value=0, max_value=100_000),
    noise=st.text(max_size=40).filter(lambda text: text.isprintable()),
    which=st.sampled_from(["body", "signature", "secret", "noise"]),
)
async def test_forged_webhooks_are_401_and_store_nothing(  # noqa: PLR0917  (hypothesis)
    client: httpx.AsyncClient,
    sessions: SessionFactory,
    case: Case,
    flip: int,
    noise: str,
    which: str,
) -> None:
    body = encode(case.body())
    headers = case.headers(body)
    signature = next(name for name in headers if "Signature" in name or "Secret" in name)
    if which == "body" and case.name == "freshdesk":
        return  # Freshdesk cannot sign: its shared secret says nothing about the body
    if which == "body":
        tampered = bytearray(body)
        tampered[flip % len(body)] ^= 1 << (flip % 8)
        body = bytes(tampered)
    elif which == "signature":
        value = headers[signature]
        at = flip % len(value)
        other = "0" if value[at].lower() != "0" else "1"  # hex is compared case-insensitively
        headers[signature] = value[:at] + other + value[at + 1 :]
    elif which == "secret":
        headers = case.headers(body, secret=case.secret + "x")
    else:
        headers[signature] = noise
    response = await client.post(
        f"/api/v1/webhooks/{case.name}", content=body, headers=raw(headers)
    )
    assert response.status_code == 401, response.text
    clear_refusal(response)
    assert await stored(sessions) == (0, 0, 0)


@pytest.mark.parametrize("case", TIMED, ids=lambda case: case.name)
@DB_SETTINGS
@given(offset=st.integers(min_value=int(SKEW.total_seconds()) + 1, max_value=10**9))
async def test_replayed_webhooks_outside_the_window_are_401(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case, offset: int
) -> None:
    body = encode(case.body())
    for sign in (-1, 1):
        try:
            sent_at = NOW + sign * timedelta(seconds=offset)
        except OverflowError:
            continue
        if sent_at.year < 2000 or sent_at.year > 9000:
            continue
        response = await client.post(
            f"/api/v1/webhooks/{case.name}",
            content=body,
            headers=case.headers(body, sent_at=sent_at),
        )
        assert response.status_code == 401, response.text
        assert "stale" in response.json()["error"] or "timestamp" in response.json()["error"]
    assert await stored(sessions) == (0, 0, 0)
