"""The rest of the HTTP surface: unconfigured helpdesks, the signed generic endpoint, the
connect link, and the OpenAPI document that describes them all."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.core.rules import SurveyRules
from bot.intake.adapters import HELPDESKS, build_adapters, helpdesk_names
from bot.intake.http import create_http_app
from storage.db import SessionFactory
from storage.models import Survey
from tests.intake.cases import NOW, SENT_AT
from tests.intake.conftest import API_TOKEN, GENERIC_SECRET, intake_for, settings, stored

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
TICKET = {
    "ticket_id": "T-9",
    "closed_at": "2026-11-18T09:45:00Z",
    "customer": {"id": "c-9", "name": "Anna"},
    "tags": ["vip"],
}


def signed(
    body: bytes, *, secret: str = GENERIC_SECRET, stamp: int | None = None
) -> dict[str, str]:
    stamp = int(SENT_AT.timestamp()) if stamp is None else stamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "X-Npsbot-Timestamp": str(stamp),
        "X-Npsbot-Signature": f"sha256={mac}",
        "Content-Type": "application/json",
    }


async def test_unconfigured_helpdesk_is_404_naming_the_variable(sessions: SessionFactory) -> None:
    app = create_http_app(intake_for(sessions), api_token=API_TOKEN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post("/api/v1/webhooks/zendesk", content=b"{}")
        unknown = await http.post("/api/v1/webhooks/kayako", content=b"{}")
    assert response.status_code == 404
    assert response.json() == {"error": "zendesk is not configured: set NPSBOT_ZENDESK_SECRET"}
    assert unknown.status_code == 404 and "unknown helpdesk 'kayako'" in unknown.json()["error"]


async def test_generic_endpoint_accepts_a_signature_instead_of_the_bearer(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    body = json.dumps(TICKET).encode()
    response = await client.post("/api/v1/tickets/closed", content=body, headers=signed(body))
    assert response.status_code == 202, response.text
    bearer = await client.post("/api/v1/tickets/closed", json=TICKET, headers=BEARER)
    assert bearer.status_code == 202 and bearer.json()["survey_id"] == response.json()["survey_id"]


def bad_signatures(body: bytes) -> dict[str, dict[str, str]]:
    """Requests that must not pass, by what is wrong with them."""
    stale = int((NOW - timedelta(hours=1)).timestamp())
    return {
        "other-body": signed(body + b" "),
        "other-secret": signed(body, secret="guess"),
        "stale": signed(body, stamp=stale),
        "no-timestamp": {"X-Npsbot-Signature": signed(body)["X-Npsbot-Signature"]},
        "nothing": {},
    }


@pytest.mark.parametrize("problem", list(bad_signatures(b"")))
async def test_generic_endpoint_refuses_bad_signatures_and_stores_nothing(
    client: httpx.AsyncClient, sessions: SessionFactory, problem: str
) -> None:
    body = json.dumps(TICKET).encode()
    headers = bad_signatures(body)[problem] | {"Content-Type": "application/json"}
    response = await client.post("/api/v1/tickets/closed", content=body, headers=headers)
    assert response.status_code == 401, problem
    assert await stored(sessions) == (0, 0, 0)


async def test_generic_endpoint_records_tags_and_skip_rules_apply_to_them(
    sessions: SessionFactory,
) -> None:
    intake = replace(intake_for(sessions), rules=SurveyRules(skip_tags=frozenset({"spam"})))
    app = create_http_app(intake, api_token=API_TOKEN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        kept = await http.post("/api/v1/tickets/closed", json=TICKET, headers=BEARER)
        spam = TICKET | {"ticket_id": "T-10", "tags": ["Spam"]}
        skipped = await http.post("/api/v1/tickets/closed", json=spam, headers=BEARER)
    assert (kept.status_code, skipped.status_code) == (202, 202)
    assert (kept.json()["skip_reason"], skipped.json()["skip_reason"]) == (None, "tag:spam")
    assert skipped.json()["status"] == "skipped"
    async with sessions() as session:
        survey = (
            await session.exec(select(Survey).where(Survey.id == kept.json()["survey_id"]))
        ).one()
    assert survey.tags == ["vip"]


async def test_connect_link_needs_auth_and_answers_a_signed_expiring_link(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    customer = {"id": "zendesk:8447388090495", "name": "Anna", "phone": "+79001234567"}
    refused = await client.post("/api/v1/customers/connect-link", json=customer)
    assert refused.status_code == 401
    response = await client.post("/api/v1/customers/connect-link", json=customer, headers=BEARER)
    assert response.status_code == 200, response.text
    link = response.json()
    assert set(link) == {"deep_link", "expires_at"}
    assert link["deep_link"].startswith("https://t.me/acme_bot?start=")
    assert link["expires_at"].startswith((NOW + timedelta(days=30)).date().isoformat())
    assert await stored(sessions) == (1, 0, 0)


async def test_connect_link_without_customer_id_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/customers/connect-link", json={"name": "Anna"}, headers=BEARER
    )
    assert response.status_code == 422
    assert [field["field"] for field in response.json()["fields"]] == ["id"]


async def test_openapi_describes_every_intake_endpoint(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for helpdesk in HELPDESKS:
        operation = schema["paths"][f"/api/v1/webhooks/{helpdesk.name}"]["post"]
        assert operation["summary"]
        assert {"202", "400", "401", "404"} <= set(operation["responses"])
        assert "application/json" in operation["requestBody"]["content"]
    assert "/api/v1/webhooks/{helpdesk}" not in schema["paths"]
    link = schema["paths"]["/api/v1/customers/connect-link"]["post"]
    assert "200" in link["responses"] and "CustomerIn" in json.dumps(link["requestBody"])
    closed = schema["paths"]["/api/v1/tickets/closed"]["post"]
    assert {"HTTPBearer", "NpsbotSignature"} <= {next(iter(s)) for s in closed["security"]}
    assert "skip_reason" in schema["components"]["schemas"]["SurveyOut"]["properties"]


def test_build_adapters_makes_only_the_configured_ones() -> None:
    adapters = build_adapters(settings(zendesk_secret=None, jira_secret="  "))
    assert set(adapters) == helpdesk_names() - {"zendesk", "jira"}
    assert all(adapter.name == name for name, adapter in adapters.items())
