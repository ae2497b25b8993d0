"""/openapi.json and the server agree: a body the schema admits is accepted, one it refuses is
refused, judged by a JSON Schema validator over the very document the server publishes.

test_openapi_fuzz.py generates cases at random; this holds chosen ones: the edges of what a
field takes, each tried against the schema and the server alike.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
import jsonschema_rs
import pytest

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
