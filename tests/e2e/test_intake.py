"""The intake as a helpdesk meets it: 202 with a deep link, idempotent, clear 4xx."""

from __future__ import annotations

import re

from tests.e2e.conftest import Harness, ticket


async def test_closed_ticket_answers_202_with_survey_and_deep_link(harness: Harness) -> None:
    response = await harness.close_ticket(ticket("T-1", {"id": "c-1", "name": "Anna"}))
    assert response.status_code == 202
    body = response.json()
    assert body["ticket_id"] == "T-1" and body["status"] == "pending" and body["created"] is True
    match = re.fullmatch(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]{1,64})", body["deep_link"])
    assert match and match[1] == harness.fake.bot_username


async def test_same_ticket_again_returns_the_same_survey(harness: Harness) -> None:
    first = (await harness.close_ticket(ticket("T-2", {"id": "c-2"}))).json()
    again = await harness.close_ticket(ticket("T-2", {"id": "c-2"}))
    assert again.status_code == 202
    assert again.json()["survey_id"] == first["survey_id"]
    assert again.json()["created"] is False


async def test_missing_or_wrong_token_is_401(harness: Harness) -> None:
    no_token = await harness.http.post("/api/v1/tickets/closed", json=ticket("T-3", {"id": "c"}))
    wrong = await harness.close_ticket(ticket("T-3", {"id": "c"}), token="guess")
    assert (no_token.status_code, wrong.status_code) == (401, 401)
    assert "bearer token" in wrong.json()["error"]
    assert (await harness.close_ticket(ticket("T-3", {"id": "c"}))).json()["created"] is True


async def test_malformed_json_is_400_and_missing_field_is_422_naming_it(harness: Harness) -> None:
    broken = await harness.http.post(
        "/api/v1/tickets/closed",
        content=b'{"ticket_id": "T-4",',
        headers={"Authorization": "Bearer intake-s3cret", "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert "malformed JSON" in broken.json()["error"]
    body = ticket("T-4", {"name": "no id"})
    del body["closed_at"]
    missing = await harness.close_ticket(body)
    assert missing.status_code == 422
    fields = {item["field"] for item in missing.json()["fields"]}
    assert fields == {"customer.id", "closed_at"}


async def test_openapi_declares_the_intake_schema(harness: Harness) -> None:
    schema = (await harness.http.get("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/tickets/closed"]["post"]
    assert "202" in operation["responses"]
    assert "TicketClosedIn" in schema["components"]["schemas"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
