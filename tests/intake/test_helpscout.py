"""Help Scout's team is its mailbox, in v1 bodies (``mailbox.name``) and v2 ones (``mailboxId``).

Help Scout's current webhooks send the v2 Conversation object, which names the mailbox by its
number only; NPSBOT_HELPSCOUT_MAILBOXES names those numbers. Both bodies are Help Scout's
documented examples (fixtures), posted signed through the HTTP app into the database.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlmodel import select

from bot.config import load_settings
from bot.intake.adapters import build_adapters
from bot.intake.http import create_http_app
from storage.db import SessionFactory
from storage.models import Customer, Survey
from tests.intake.cases import BY_NAME, NOW, SKEW, encode, load
from tests.intake.conftest import API_TOKEN, intake_for, settings

HELPSCOUT = BY_NAME["helpscout"]
V1 = "helpscout_closed_v1.json"
V2 = "helpscout_closed.json"


async def close(
    sessions: SessionFactory, data: dict[str, Any], *, mailboxes: str = ""
) -> tuple[Survey, Customer]:
    """Post a closing to an app configured with ``mailboxes``; the survey and customer stored."""
    app = create_http_app(
        intake_for(sessions),
        api_token=API_TOKEN,
        adapters=build_adapters(settings(helpscout_mailboxes=mailboxes), clock=lambda: NOW),
        webhook_max_skew=SKEW,
    )
    body = encode(data)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://npsbot.test") as http:
        response = await http.post(
            "/api/v1/webhooks/helpscout",
            content=body,
            headers=HELPSCOUT.headers(body) | {"Content-Type": "application/json"},
        )
    assert response.status_code == 202, response.text
    async with sessions() as session:
        survey = (await session.exec(select(Survey))).one()
        customer = await session.get(Customer, survey.customer_id)
    assert customer is not None
    return survey, customer


@pytest.mark.parametrize(
    ("fixture", "mailboxes", "team"),
    [
        pytest.param(V2, "", "mailbox 85", id="v2-unnamed-is-its-id"),
        pytest.param(V2, "85=Billing, 90=Support", "Billing", id="v2-named-by-the-operator"),
        pytest.param(V2, "90=Support", "mailbox 85", id="v2-another-mailbox-named"),
        pytest.param(V1, "", "Billing Inbox", id="v1-named-by-help-scout"),
        pytest.param(V1, "85=Billing", "Billing", id="v1-the-operator-name-wins"),
    ],
)
async def test_the_team_is_the_mailbox_in_both_payload_versions(
    sessions: SessionFactory, fixture: str, mailboxes: str, team: str
) -> None:
    survey, _ = await close(sessions, load(fixture), mailboxes=mailboxes)
    assert survey.team == team


async def test_v1_mailbox_without_a_name_is_its_id(sessions: SessionFactory) -> None:
    data = load(V1) | {"mailbox": {"id": 85}}
    survey, _ = await close(sessions, data)
    assert survey.team == "mailbox 85"


async def test_a_body_without_any_mailbox_has_no_team(sessions: SessionFactory) -> None:
    data = {key: value for key, value in load(V2).items() if key != "mailboxId"}
    survey, _ = await close(sessions, data, mailboxes="85=Billing")
    assert survey.team is None


async def test_a_v1_body_is_read_as_fully_as_a_v2_one(sessions: SessionFactory) -> None:
    survey, customer = await close(sessions, load(V1))
    assert (survey.agent, survey.channel) == ("Ivan Petrov", "email")
    assert survey.tags == ["vip", "refund"]
    assert survey.closed_at == HELPSCOUT.closed_at
    assert (customer.helpdesk_id, customer.name) == (HELPSCOUT.customer_id, "Anna Smirnova")


def test_mailbox_names_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPSBOT_HELPSCOUT_MAILBOXES", " 123=Billing , 456 = Support team, ")
    read = load_settings(_env_file=None)
    assert read.helpscout_mailboxes == {123: "Billing", 456: "Support team"}
    monkeypatch.delenv("NPSBOT_HELPSCOUT_MAILBOXES")
    assert load_settings(_env_file=None).helpscout_mailboxes == {}


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("Billing", "'Billing'"),
        ("123:Billing", "'123:Billing'"),
        ("abc=Billing", "'abc=Billing'"),
        ("123=", "'123='"),
        ("123=A,123=B", "mailbox 123 is named twice"),
    ],
)
def test_a_bad_mailbox_name_is_refused_quoting_it(value: str, quoted: str) -> None:
    with pytest.raises(ValidationError, match=quoted):
        load_settings(_env_file=None, helpscout_mailboxes=value)
