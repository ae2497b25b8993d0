"""Whatever a helpdesk (or an attacker) sends, the answer is a decision, never a crash:
parsing raises only ``PayloadError``, and the endpoint answers 202, 400 or 401, never 500."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.tickets import CustomerInfo, TicketClosed
from bot.intake.adapters import Ignored, PayloadError, SignatureError, TicketReopened
from bot.intake.bodylimit import DEFAULT_MAX_BODY_BYTES
from storage.db import SessionFactory
from tests.intake.cases import BY_NAME, CASES, NOW, Case, Json
from tests.intake.conftest import stored
from tests.intake.hostile import GARBAGE, HOSTILE_TEXT, JSON_VALUES, dumps

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


def text_paths(value: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Key paths of every string in a JSON document (outside lists)."""
    if isinstance(value, str):
        return [prefix]
    if isinstance(value, dict):
        nested = (text_paths(child, (*prefix, key)) for key, child in value.items())
        return [found for paths_of_child in nested for found in paths_of_child]
    return []


@st.composite
def retexted(draw: st.DrawFn, case: Case) -> Json:
    """The helpdesk's own payload, shape intact, with hostile text in some of its strings."""
    data = copy.deepcopy(case.body())
    for path in draw(st.lists(st.sampled_from(text_paths(data)), min_size=1, max_size=4)):
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        original = target[path[-1]]
        hostile = draw(HOSTILE_TEXT)
        target[path[-1]] = draw(st.sampled_from([hostile, original + hostile, hostile + original]))
    return data


def bodies(case: Case) -> st.SearchStrategy[bytes]:
    """Garbage, hostile JSON, and (mostly) near-miss versions of the real payload, sent
    with ``\\u`` escapes (lone surrogates survive) or as raw UTF-8 (NUL, bidi, markup)."""
    return st.one_of(
        GARBAGE,
        st.builds(dumps, JSON_VALUES, escaped=st.booleans()),
        st.builds(dumps, mutated(case), escaped=st.booleans()),
        st.builds(dumps, mutated(case), escaped=st.booleans()),
        st.builds(dumps, retexted(case), escaped=st.booleans()),
        st.builds(dumps, retexted(case), escaped=st.booleans()),
    )


def database_safe(found: object) -> None:
    """Every text of an event (or its message) fits a database column and a JSON answer."""
    if isinstance(found, str):
        assert "\x00" not in found
        found.encode("utf-8")  # no lone surrogate
    elif isinstance(found, tuple | list):
        for item in found:
            database_safe(item)
    elif isinstance(found, TicketClosed | TicketReopened | Ignored | CustomerInfo):
        for name in type(found).__dataclass_fields__:
            database_safe(getattr(found, name))
    elif isinstance(found, PayloadError):
        database_safe(str(found))


def answered_clearly(response: httpx.Response) -> None:
    """A 4xx is JSON naming the problem; anything else must be a 202 or a 401.

    A body over the cap is a 413 (once the sender is trusted), and only such a body is.
    """
    over_cap = len(response.request.content) > DEFAULT_MAX_BODY_BYTES
    allowed = {401, 413} if over_cap else {202, 400, 401}
    assert response.status_code in allowed, response.text
    if response.status_code != 202:
        assert response.json()["error"].strip(), response.text


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
    database_safe(outcome)
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
async def test_endpoint_never_answers_500_and_a_refusal_stores_nothing(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case, data: st.DataObject
) -> None:
    body = data.draw(bodies(case))
    headers = case.headers(body) if data.draw(st.booleans()) else {}
    if case.name == "helpscout" and headers:
        headers["X-HelpScout-Event"] = data.draw(HELPSCOUT_EVENTS)
    before = await stored(sessions)
    response = await client.post(f"/api/v1/webhooks/{case.name}", content=body, headers=headers)
    answered_clearly(response)
    assert response.status_code == 401 or headers
    if response.status_code != 202 or "ignored" in response.json():
        assert await stored(sessions) == before


def test_every_helpdesk_is_fuzzed() -> None:
    assert set(BY_NAME) == {case.name for case in CASES}
