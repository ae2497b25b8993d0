"""A helpdesk's signed webhook through the running bot, all the way to the client's Telegram."""

from __future__ import annotations

import json

from pydantic import SecretStr

from tests.e2e.conftest import Harness
from tests.intake.cases import load, sign_chatwoot

SECRET = "chatwoot-webhook-secret"


async def test_chatwoot_resolution_reaches_the_client_in_telegram(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"chatwoot_secret": SecretStr(SECRET)})
    await harness.restart()
    client = harness.fake.client(5150, "Anna", language_code="ru")
    payload = load("chatwoot_resolved.json")
    payload["meta"]["sender"]["additional_attributes"]["social_telegram_user_id"] = client.user_id
    body = json.dumps(payload).encode()

    forged = await harness.http.post(
        "/api/v1/webhooks/chatwoot",
        content=body,
        headers={
            **sign_chatwoot(body, "wrong secret", harness.clock()),
            "Content-Type": "application/json",
        },
    )
    assert forged.status_code == 401

    headers = {**sign_chatwoot(body, SECRET, harness.clock()), "Content-Type": "application/json"}
    response = await harness.http.post("/api/v1/webhooks/chatwoot", content=body, headers=headers)
    assert response.status_code == 202, response.text
    question = await client.wait_for_bot_message(lambda m: "1307" in m.content)
    assert "порекомендуете" in question.content  # the contact's language from Chatwoot
    assert len(question.buttons()) == 11
    again = await harness.http.post("/api/v1/webhooks/chatwoot", content=body, headers=headers)
    assert again.json()["survey_id"] == response.json()["survey_id"]
