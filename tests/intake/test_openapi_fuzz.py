"""Schemathesis over /openapi.json, in process, against the real app and database.

Every documented operation gets schema-valid (positive) and schema-violating (negative)
requests, with the bearer token or signed as its helpdesk would, or with no credentials at all.
Whatever comes in: no 500, every answer is documented (status, content type, body schema,
headers), a schema-violating body is refused, a schema-valid one from a trusted sender is
accepted, and a refused request stores nothing. So the schema is neither looser nor stricter
than the server: what it says is required or limited is what is enforced, and nothing else is.

NUL is not generated: the intake drops it from every text (PostgreSQL refuses it), so a text's
length and emptiness are judged without it, which a JSON Schema cannot say.

A helpdesk's body is declared as its closing (bot.intake.adapters.bodies): a body that breaks a
closing's field and is no closing at all (a random status) is rightly acknowledged, so negative
cases are generated for the generic routes only. test_contract.py changes each documented
closing one field at a time instead, and holds the schema to every answer.

Deterministic for CI: hypothesis is derandomized and keeps no example database.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.intake.adapters import build_adapters
from bot.intake.http import create_http_app
from storage.db import SessionFactory
from tests.intake.cases import BY_NAME, NOW, SENT_AT, SKEW
from tests.intake.conftest import API_TOKEN, GENERIC_SECRET, intake_for, settings, stored
from tests.intake.hostile import generic_signature

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
RUN = hypothesis_settings(
    max_examples=25,  # per mode: 50 requests per operation keep the file near 15 s a backend
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),  # one database for all examples; big bodies
)


def documented_app() -> FastAPI:
    """The app as the bot builds it; its schema does not depend on the database."""
    return create_http_app(
        intake_for(None),  # type: ignore[arg-type]  # only /openapi.json is asked of it
        api_token=API_TOKEN,
        adapters=build_adapters(settings(), clock=lambda: NOW),
        generic_webhook_secret=GENERIC_SECRET,
        webhook_max_skew=SKEW,
    )


SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", documented_app())
SCHEMA.config.generation.update(allow_x00=False)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations() if isinstance(result, Ok)]


def test_every_route_is_documented_and_fuzzed() -> None:
    routes = {(operation.method.upper(), operation.path) for operation in OPERATIONS}
    assert {("POST", f"/api/v1/webhooks/{name}") for name in BY_NAME} <= routes
    assert {
        ("POST", "/api/v1/tickets/closed"),
        ("POST", "/api/v1/tickets/reopened"),
        ("POST", "/api/v1/customers/connect-link"),
        ("GET", "/healthz"),
    } <= routes


def credentials(path: str, body: bytes, choice: str) -> dict[str, str]:
    """Headers a genuine sender would add, or none (a refusal is part of the contract)."""
    if choice == "none":
        return {}
    if path.startswith("/api/v1/webhooks/"):
        return BY_NAME[path.rsplit("/", 1)[1]].headers(body)
    if choice == "signed":
        return generic_signature(body, str(int(SENT_AT.timestamp())))
    return {"Authorization": f"Bearer {API_TOKEN}"}


def is_webhook(path: str) -> bool:
    return path.startswith("/api/v1/webhooks/")


def request_body(sent: dict[str, Any]) -> bytes | None:
    """The body schemathesis would send, as bytes: a signature is over the bytes."""
    if "json" in sent:
        return json.dumps(sent["json"]).encode()
    data = sent.get("data")
    if isinstance(data, str):
        return data.encode()
    return data if isinstance(data, bytes) else None


@pytest.mark.parametrize(
    ("operation", "mode"),
    [
        pytest.param(operation, mode, id=f"{mode}-{operation.label}")
        for operation in OPERATIONS
        for mode in GenerationMode
        # /healthz takes nothing to get wrong; a webhook's negatives are test_contract's.
        if mode.is_positive or (len(operation.body) and not is_webhook(operation.path))
    ],
)
@RUN
@given(data=st.data())
async def test_operation_keeps_its_documented_contract(
    client: httpx.AsyncClient,
    sessions: SessionFactory,
    operation: Any,
    mode: GenerationMode,
    data: st.DataObject,
) -> None:
    case = data.draw(operation.as_strategy(generation_mode=mode))
    choice = data.draw(st.sampled_from(["bearer", "signed", "none"]))
    sent = case.as_transport_kwargs(base_url="http://npsbot.test")
    body = request_body(sent)
    headers = {**(sent.get("headers") or {}), **credentials(operation.path, body or b"", choice)}
    before = await stored(sessions)
    response = await client.request(
        sent["method"], sent["url"], content=body, headers=headers, params=sent.get("params")
    )
    case.validate_response(response, checks=CHECKS, headers=headers)
    if response.status_code >= 400:
        assert await stored(sessions) == before, response.text
    if mode.is_positive and choice != "none":
        assert response.is_success, (body, response.text)  # the server is no stricter
