"""The webhook endpoints as helpdesks meet them: 202 with a survey, idempotent retries,
401/400 that store nothing, reopenings that cancel, and an OpenAPI entry for each."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from storage.db import SessionFactory
from storage.models import Survey
from tests.intake.cases import CASES, SENT_AT, SKEW, Case, encode
from tests.intake.conftest import stored

by_name = pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)


async def post(
    client: httpx.AsyncClient, case: Case, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    sent = case.headers(body) if headers is None else headers
    return await client.post(
        f"/api/v1/webhooks/{case.name}",
        content=body,
        headers=sent | {"Content-Type": "application/json"},
    )


@by_name
async def test_closing_answers_202_with_the_survey_and_a_retry_gets_the_same(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case
) -> None:
    body = encode(case.body())
    first = await post(client, case, body)
    assert first.status_code == 202, first.text
    survey = first.json()
    assert survey["ticket_id"] == case.ticket_id and survey["created"] is True
    assert survey["status"] == "pending" and survey["skip_reason"] is None
    assert re.fullmatch(r"https://t\.me/acme_bot\?start=[A-Za-z0-9_-]{1,64}", survey["deep_link"])
    retry = await post(client, case, body)
    assert retry.status_code == 202
    assert retry.json()["survey_id"] == survey["survey_id"] and retry.json()["created"] is False
    assert await stored(sessions) == (1, 1, 1)


@by_name
async def test_reopening_cancels_the_survey_that_has_not_gone_out(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case
) -> None:
    survey_id = (await post(client, case, encode(case.body()))).json()["survey_id"]
    reopened = await post(client, case, encode(case.body(case.reopen)))
    assert reopened.status_code == 202
    assert reopened.json() == {"ticket_id": case.ticket_id, "cancelled": 1}
    async with sessions() as session:
        survey = (await session.exec(select(Survey).where(Survey.id == survey_id))).one()
    assert survey.status == "cancelled"


@by_name
async def test_other_event_is_202_and_creates_nothing(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case
) -> None:
    body = encode(case.body(case.ignore))
    response = await post(client, case, body, case.headers(body) | case.ignore_headers)
    assert response.status_code == 202
    assert set(response.json()) == {"ignored"} and response.json()["ignored"]
    assert await stored(sessions) == (0, 0, 0)


@by_name
async def test_wrong_or_missing_signature_is_401_and_stores_nothing(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case
) -> None:
    body = encode(case.body())
    wrong = await post(client, case, body, case.headers(body, secret="guess"))
    missing = await post(client, case, body, {})
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert "error" in wrong.json() and "missing" in missing.json()["error"]
    assert await stored(sessions) == (0, 0, 0)


@by_name
async def test_malformed_json_or_missing_field_is_400_naming_it(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case
) -> None:
    broken = await post(client, case, b'{"id": ')
    missing = await post(client, case, encode(case.body({case.required: ...})))
    assert (broken.status_code, missing.status_code) == (400, 400)
    assert "malformed JSON" in broken.json()["error"]
    assert case.required in missing.json()["error"]
    assert await stored(sessions) == (0, 0, 0)


@pytest.mark.parametrize("case", [c for c in CASES if c.signs_time], ids=lambda c: c.name)
async def test_replayed_request_with_a_stale_timestamp_is_401(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case
) -> None:
    body = encode(case.body())
    response = await post(client, case, body, case.headers(body, sent_at=SENT_AT - 3 * SKEW))
    assert response.status_code == 401 and "stale" in response.json()["error"]
    assert await stored(sessions) == (0, 0, 0)
