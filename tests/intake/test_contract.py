"""/openapi.json and the server agree: a body the schema admits is accepted, one it refuses is
refused, judged by a JSON Schema validator over the very document the server publishes.

test_openapi_fuzz.py generates cases at random; this holds chosen ones: the edges of what a
field takes, each tried against the schema and the server alike. A helpdesk's body is declared
as its closing (bot.intake.adapters.bodies), so each of its documented closing payloads is
changed one field at a time, every field of it (declared or not, at any depth): removed, or set
to a value of every JSON kind and to an id too long to be one. The schema must tell, every
time, whether the server takes the result.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import jsonschema_rs
import pytest

from bot.intake.adapters.bodies.fields import NON_BLANK
from bot.intake.adapters.payload import clean
from tests.intake.cases import BY_NAME, load
from tests.intake.conftest import API_TOKEN
from tests.intake.test_openapi_fuzz import documented_app

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
TICKET: dict[str, Any] = {"ticket_id": "T-1", "customer": {"id": "c-1"}}


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document as the server publishes it."""
    return documented_app().openapi()


def body_validator(path: str) -> jsonschema_rs.Validator:
    """A validator of ``path``'s request body, formats included, references resolved."""
    operation = document()["paths"][path]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": document()["components"]}, validate_formats=True
    )


CLOSED_AT = [
    "2026-11-20T14:03:00Z",
    "2026-11-20T14:03:00.123456+03:00",
    "2000-01-01T00:00:00Z",
    "2000-01-01T00:00:00+05:00",  # 1999 in UTC: the year as written is what counts
    "2199-12-31T23:59:59-05:00",
    "1999-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-11-20T14:03:00",  # no time zone
    "2026-02-30T10:00:00Z",
    "2026-11-20",
    "tomorrow",
    "",
    1763459100,  # a Unix time: the schema says a string
    None,
]


@pytest.mark.parametrize("closed_at", CLOSED_AT, ids=repr)
async def test_closed_at_is_taken_exactly_when_the_schema_takes_it(
    client: httpx.AsyncClient, closed_at: object
) -> None:
    ticket = TICKET | {"closed_at": closed_at}
    admitted = body_validator("/api/v1/tickets/closed").is_valid(ticket)
    response = await client.post("/api/v1/tickets/closed", json=ticket, headers=BEARER)
    assert response.is_success == admitted, (admitted, response.text)
    if not admitted:
        assert response.status_code == 422
        assert [field["field"] for field in response.json()["fields"]] == ["closed_at"]


Path = tuple[str | int, ...]
REMOVED = object()
VALUES: list[object] = [REMOVED, None, "", "  ", "x", 7, 2.5, True, [], {}, "9" * 201]


def _flat_freshdesk() -> dict[str, Any]:
    fields: dict[str, Any] = load("freshdesk_resolved.json")["freshdesk_webhook"]
    return fields


def _freshdesk_by_email() -> dict[str, Any]:
    fields = _flat_freshdesk()
    del fields["requester_id"]
    return fields | {"requester_email": "anna@example.com"}


def _zendesk_trigger_by_first_name() -> dict[str, Any]:
    data = load("zendesk_trigger_solved.json")
    requester = data["ticket"]["requester"]
    del requester["name"]
    requester |= {"first_name": "Anna", "last_name": "Smirnova", "locale": "ru"}
    return data


# Each helpdesk's closing as its documentation shows it, and the other forms it may take.
CLOSINGS: dict[str, tuple[str, Any]] = {
    "zendesk-event": ("zendesk", lambda: load("zendesk_status_solved.json")),
    "zendesk-trigger": ("zendesk", lambda: load("zendesk_trigger_solved.json")),
    "zendesk-trigger-first-name": ("zendesk", _zendesk_trigger_by_first_name),
    "freshdesk-wrapped": ("freshdesk", lambda: load("freshdesk_resolved.json")),
    "freshdesk-flat": ("freshdesk", _flat_freshdesk),
    "freshdesk-by-email": ("freshdesk", _freshdesk_by_email),
    "zammad": ("zammad", lambda: load("zammad_closed.json")),
    "helpscout-v2": ("helpscout", lambda: load("helpscout_closed.json")),
    "helpscout-v1": ("helpscout", lambda: load("helpscout_closed_v1.json")),
    "chatwoot": ("chatwoot", lambda: load("chatwoot_resolved.json")),
    "jira": ("jira", lambda: load("jira_resolved.json")),
}


def paths(value: object, prefix: Path = ()) -> Iterator[Path]:
    """Every member of every object and every item of every array in ``value``."""
    items: list[tuple[str | int, object]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def changed(data: Any, path: Path, value: object) -> Any:
    """A copy of ``data`` with ``path`` set to ``value``, or removed."""
    data = copy.deepcopy(data)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if value is REMOVED:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@pytest.mark.parametrize("closing", list(CLOSINGS))
async def test_each_helpdesk_closing_is_taken_exactly_when_its_schema_takes_it(
    client: httpx.AsyncClient, closing: str
) -> None:
    helpdesk, make = CLOSINGS[closing]
    case, original = BY_NAME[helpdesk], make()
    validator = body_validator(f"/api/v1/webhooks/{helpdesk}")
    assert validator.is_valid(original), list(validator.iter_errors(original))[:3]
    disagreements = []
    for path in paths(original):
        for value in VALUES:
            if value is REMOVED and isinstance(path[-1], int):
                continue  # an item is changed, not removed: removing shifts the others
            data = changed(original, path, value)
            body = json.dumps(data).encode()
            response = await client.post(
                f"/api/v1/webhooks/{helpdesk}",
                content=body,
                headers=case.headers(body) | {"Content-Type": "application/json"},
            )
            if not agrees(validator.is_valid(data), response):
                shown = "removed" if value is REMOVED else repr(value)[:20]
                disagreements.append((".".join(map(str, path)), shown, response.text))
    assert not disagreements, disagreements[:10]


def agrees(admitted: bool, response: httpx.Response) -> bool:
    """Whether the server's answer is the one the closing's schema predicts.

    Admitted: taken (202). Refused: a 400 that says why. Except that a change may turn the
    closing into another event (emptied Jira fields make a reopening), which needs less than a
    closing: taken as such, it is no disagreement, as long as it is not taken as a closing.
    """
    if admitted:
        return response.status_code == 202
    if response.status_code == 202:
        return "survey_id" not in response.json()
    return response.status_code == 400 and bool(response.json()["error"])


def test_not_blank_in_the_schema_is_not_blank_to_the_adapters() -> None:
    """For every character: the declared pattern and NUL removal plus str.strip() agree."""
    declared = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": NON_BLANK})
    differ = [
        f"U+{code:04X}"
        for code in range(0x10000)
        if not 0xD800 <= code <= 0xDFFF  # JSON carries no lone surrogate to either
        and declared.is_valid(chr(code)) != (clean(chr(code)) is not None)
    ]
    assert not differ
