"""Whatever a helpdesk (or an attacker) sends, the answer is a decision, never a crash:
parsing raises only ``PayloadError``, and the endpoint answers 202, 400 or 401, never 500."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.tickets import TicketClosed
from bot.intake.adapters import Ignored, PayloadError, SignatureError, TicketReopened
from tests.intake.cases import BY_NAME, CASES, NOW, Case, Json, encode

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
HELPSCOUT_EVENTS = st.sampled_from(["convo.status", "convo.created", "", "x" * 300])


def paths(value: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path in a JSON document, interior ones included."""
    found: list[tuple[str, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    return found


@st.composite
def mutated(draw: st.DrawFn, case: Case) -> Json:
    """The helpdesk's own payload with some values replaced by any JSON, or removed."""
    data = copy.deepcopy(case.body())
    for path in draw(st.lists(st.sampled_from(paths(data)), max_size=4)):
        target: Any = data
        for key in path[:-1]:
            if not isinstance(target, dict) or key not in target:
                break
            target = target[key]
        else:
            if isinstance(target, dict):
                if draw(st.booleans()):
                    target.pop(path[-1], None)
                else:
                    target[path[-1]] = draw(JSON_VALUES)
    return data


def bodies(case: Case) -> st.SearchStrategy[bytes]:
    """Random bytes, random JSON, and (mostly) near-miss versions of the real payload."""
    return st.one_of(
        st.binary(max_size=200),
        JSON_VALUES.map(lambda value: json.dumps(value).encode()),
        mutated(case).map(encode),
        mutated(case).map(encode),
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_parse_returns_an_event_or_a_payload_error(case: Case, data: st.DataObject) -> None:
    body = data.draw(bodies(case))
    headers = case.headers(body) | {"X-HelpScout-Event": data.draw(HELPSCOUT_EVENTS)}
    outcome: object
    try:
        outcome = case.adapter().parse(headers=headers, body=body)
    except PayloadError as error:
        outcome = error
    assert isinstance(outcome, PayloadError | TicketClosed | TicketReopened | Ignored)
    assert str(outcome)
    if isinstance(outcome, TicketClosed):
        assert outcome.closed_at.tzinfo is not None
        assert len(outcome.ticket_id) <= 255 and len(outcome.customer.helpdesk_id) <= 255


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=100),
    headers=st.dictionaries(st.text(max_size=30), st.text(max_size=60)),
)
def test_verify_refuses_anything_unsigned(case: Case, body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        case.adapter().verify(headers=headers, body=body, now=NOW)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one database for all examples
)
@given(data=st.data())
async def test_endpoint_never_answers_500(
    client: httpx.AsyncClient, case: Case, data: st.DataObject
) -> None:
    body = data.draw(bodies(case))
    headers = case.headers(body) if data.draw(st.booleans()) else {}
    if case.name == "helpscout" and headers:
        headers["X-HelpScout-Event"] = data.draw(HELPSCOUT_EVENTS)
    response = await client.post(f"/api/v1/webhooks/{case.name}", content=body, headers=headers)
    assert response.status_code in {202, 400, 401}, response.text
    assert response.status_code == 401 or headers


def test_every_helpdesk_is_fuzzed() -> None:
    assert set(BY_NAME) == {case.name for case in CASES}
