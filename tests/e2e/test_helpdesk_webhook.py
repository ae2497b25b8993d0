"""Every helpdesk's signed webhook through the running bot, all the way to Telegram."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from tests.e2e.conftest import Harness
from tests.intake.cases import CASES, Case, load, sign_chatwoot

SECRET = "chatwoot-webhook-secret"


async def post(harness: Harness, case: Case, body: bytes, secret: str) -> dict[str, object]:
    headers = {
        **case.headers(body, secret=secret, sent_at=harness.clock()),
        **case.extra_headers,
        "Content-Type": "application/json",
    }
    response = await harness.http.post(
        f"/api/v1/webhooks/{case.name}", content=body, headers=headers
    )
    return {**response.json(), "http": response.status_code}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_closing_reaches_the_client_through_the_deep_link(
    harness: Harness, case: Case
) -> None:
    secret = f"{case.name}-secret"
    harness.settings = harness.settings.model_copy(
        update={f"{case.name}_secret": SecretStr(secret)}
    )
    await harness.restart()
    # Chatwoot's Telegram inboxes name the client's Telegram id (tested below); here the client
    # comes through the deep link, as with every other helpdesk.
    telegram_id = "meta.sender.additional_attributes.social_telegram_user_id"
    changes = {telegram_id: ...} if case.name == "chatwoot" else {}
    body = json.dumps(case.body(changes)).encode()
    wrong = await post(harness, case, body, "not the secret")
    assert wrong["http"] == 401
    answer = await post(harness, case, body, secret)
    assert answer["http"] == 202, answer
    assert answer["ticket_id"] == case.ticket_id

    client = harness.fake.client(9900, "Client")
    payload = str(answer["deep_link"]).rsplit("=", 1)[1]
    await client.send_text(f"/start {payload}")
    number = case.ticket_id.split(":", 1)[1]
    question = await client.wait_for_bot_message(
        lambda m: number in m.content and m.buttons() != []
    )
    assert len(question.buttons()) == 13  # 0..10 and the two end labels
    again = await post(harness, case, body, secret)  # a retry: the same survey, nothing new
    assert again["survey_id"] == answer["survey_id"]


async def test_chatwoot_telegram_inbox_needs_no_link(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"chatwoot_secret": SecretStr(SECRET)})
    await harness.restart()
    client = harness.fake.client(5150, "Anna", language_code="ru")
    payload = load("chatwoot_resolved.json")
    payload["meta"]["sender"]["additional_attributes"]["social_telegram_user_id"] = client.user_id
    body = json.dumps(payload).encode()
    headers = {**sign_chatwoot(body, SECRET, harness.clock()), "Content-Type": "application/json"}
    response = await harness.http.post("/api/v1/webhooks/chatwoot", content=body, headers=headers)
    assert response.status_code == 202, response.text
    question = await client.wait_for_bot_message(lambda m: "1307" in m.content)
    assert "порекомендуете" in question.content  # the contact's language from Chatwoot
