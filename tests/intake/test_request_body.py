"""A request body is read only from a sender who may post, and never beyond the size cap.

The body is a stream that counts what the server pulls from it, so "not read" is observed, not
inferred from timings: a refused sender's body is never touched, whatever its size.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from bot.intake.adapters import build_adapters
from bot.intake.bodylimit import DEFAULT_MAX_BODY_BYTES
from bot.intake.http import create_http_app
from storage.db import SessionFactory
from tests.intake.cases import BY_NAME, CASES, NOW, SENT_AT, SKEW, Case, encode
from tests.intake.conftest import API_TOKEN, GENERIC_SECRET, intake_for, settings, stored
from tests.intake.hostile import generic_signature

HUGE = 10 * 1024 * 1024
CHUNK = 64 * 1024
CAP = DEFAULT_MAX_BODY_BYTES
BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
GENERIC = ["/api/v1/tickets/closed", "/api/v1/tickets/reopened", "/api/v1/customers/connect-link"]
TICKET = {
    "ticket_id": "T-77",
    "closed_at": "2026-11-18T09:45:00Z",
    "customer": {"id": "c-77", "name": "Anna"},
}


class CountedBody:
    """A request body sent in chunks, counting the bytes the server asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), CHUNK):
            piece = self.data[start : start + CHUNK]
            self.pulled += len(piece)
            yield piece


def huge_json() -> bytes:
    """Ten megabytes of one JSON object, as the black-box test sent."""
    return b'{"ticket_id": "' + b"x" * HUGE + b'"}'


async def send(
    client: httpx.AsyncClient,
    path: str,
    body: CountedBody,
    headers: dict[str, str],
    *,
    chunked: bool = False,
) -> httpx.Response:
    """POST with a declared length, as an ordinary client sends a body it has in full, or
    chunked (no length at all), as a streaming client does."""
    sized = {} if chunked else {"Content-Length": str(len(body.data))}
    return await client.post(
        path, content=body, headers=sized | {"Content-Type": "application/json"} | headers
    )


def assert_too_large(response: httpx.Response) -> None:
    """413 in the intake's JSON error form, saying what the limit is."""
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert str(CAP) in error and "NPSBOT_HTTP_MAX_BODY_BYTES" in error


def wrong_credentials(case: Case) -> dict[str, dict[str, str]]:
    """Header sets that must be refused from the headers alone, by what is wrong."""
    made: dict[str, dict[str, str]] = {"none": {}}
    signed = case.headers(b"{}")
    if case.name == "freshdesk":
        made["wrong shared secret"] = {"X-Npsbot-Secret": "guess"}
    if case.signs_time:
        made["stale timestamp"] = case.headers(b"{}", sent_at=NOW - 2 * SKEW)
    if case.name == "chatwoot":
        made["wrong shared secret"] = {"X-Npsbot-Secret": "guess"}
    made["only other headers"] = {
        name: value
        for name, value in signed.items()
        if "Signature" not in name and "Secret" not in name
    }
    return made


@pytest.mark.parametrize("path", GENERIC)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-credentials"),
        pytest.param({"Authorization": "Bearer guess"}, id="wrong-token"),
        pytest.param(
            generic_signature(b"{}", str(int((NOW - 2 * SKEW).timestamp()))), id="stale-signature"
        ),
        pytest.param({"X-Npsbot-Signature": "sha256=00"}, id="signature-without-timestamp"),
    ],
)
async def test_unauthenticated_huge_body_is_401_and_never_read(
    client: httpx.AsyncClient, sessions: SessionFactory, path: str, headers: dict[str, str]
) -> None:
    body = CountedBody(huge_json())
    response = await send(client, path, body, headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]
    assert body.pulled == 0
    assert await stored(sessions) == (0, 0, 0)


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        pytest.param(case, problem, id=f"{case.name}-{problem}")
        for case in CASES
        for problem in wrong_credentials(case)
    ],
)
async def test_webhook_without_its_credential_is_401_and_its_body_never_read(
    client: httpx.AsyncClient, sessions: SessionFactory, case: Case, problem: str
) -> None:
    body = CountedBody(huge_json())
    headers = wrong_credentials(case)[problem]
    response = await send(client, f"/api/v1/webhooks/{case.name}", body, headers)
    assert response.status_code == 401, response.text
    assert body.pulled == 0
    assert await stored(sessions) == (0, 0, 0)


async def test_a_trusted_sender_streams_its_body_and_is_heard(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    ticket = json.dumps(TICKET).encode()
    bearer = CountedBody(ticket)
    response = await send(
        client, "/api/v1/tickets/closed", bearer, {"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert response.status_code == 202, response.text
    assert bearer.pulled == len(ticket)
    signed = CountedBody(ticket)
    stamp = str(int(SENT_AT.timestamp()))
    again = await send(
        client, "/api/v1/tickets/closed", signed, generic_signature(ticket, stamp, GENERIC_SECRET)
    )
    assert again.status_code == 202 and again.json()["created"] is False, again.text
    case = BY_NAME["zendesk"]
    hook = encode(case.body())
    webhook = CountedBody(hook)
    answer = await send(client, "/api/v1/webhooks/zendesk", webhook, case.headers(hook))
    assert answer.status_code == 202, answer.text
    assert webhook.pulled == len(hook)


def signed_for(path: str, body: bytes) -> dict[str, str]:
    """Credentials that pass the header checks of ``path``: the body is only read after them."""
    if path.startswith("/api/v1/webhooks/"):
        return BY_NAME[path.rsplit("/", 1)[1]].headers(body)
    return BEARER


OVER_CAP_PATHS = [*GENERIC, *(f"/api/v1/webhooks/{case.name}" for case in CASES)]


@pytest.mark.parametrize("path", OVER_CAP_PATHS)
async def test_declared_body_over_the_cap_is_413_before_a_byte_is_read(
    client: httpx.AsyncClient, sessions: SessionFactory, path: str
) -> None:
    data = huge_json()
    body = CountedBody(data)
    response = await send(client, path, body, signed_for(path, data))
    assert_too_large(response)
    assert body.pulled == 0
    assert await stored(sessions) == (0, 0, 0)


@pytest.mark.parametrize("path", OVER_CAP_PATHS)
async def test_chunked_body_over_the_cap_is_413_once_it_passes_the_cap(
    client: httpx.AsyncClient, sessions: SessionFactory, path: str
) -> None:
    data = huge_json()
    body = CountedBody(data)
    response = await send(client, path, body, signed_for(path, data), chunked=True)
    assert_too_large(response)
    assert CAP < body.pulled <= CAP + CHUNK  # counted as it came, never read to the end
    assert await stored(sessions) == (0, 0, 0)


async def test_a_body_of_exactly_the_cap_is_read(client: httpx.AsyncClient) -> None:
    ticket = json.dumps(TICKET | {"agent": ""}).encode()
    padded = ticket[:-1] + b" " * (CAP - len(ticket)) + b"}"  # whitespace is still JSON
    assert len(padded) == CAP
    for chunked in (False, True):
        body = CountedBody(padded)
        response = await send(client, "/api/v1/tickets/closed", body, BEARER, chunked=chunked)
        assert response.status_code == 202, response.text
        assert body.pulled == CAP


@pytest.fixture
async def served(sessions: SessionFactory) -> AsyncIterator[str]:
    """The app under uvicorn on a real socket, as ``npsbot run`` serves it; its base URL.

    The socket listens before uvicorn starts, so a client may connect at once: no waiting.
    """
    app = create_http_app(
        intake_for(sessions),
        api_token=API_TOKEN,
        adapters=build_adapters(settings(), clock=lambda: NOW),
        webhook_max_skew=SKEW,
    )
    listener = socket.create_server(("127.0.0.1", 0))
    # log_config=None as NpsBot has it: uvicorn's own dictConfig would rewire its loggers for
    # every later test in the process.
    config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        listener.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_over_the_cap_is_413_under_uvicorn_and_a_refused_sender_is_401(
    served: str, sessions: SessionFactory, chunked: bool
) -> None:
    async with httpx.AsyncClient(base_url=served) as http:
        refused = CountedBody(huge_json())
        unauthenticated = await send(http, GENERIC[0], refused, {}, chunked=chunked)
        assert unauthenticated.status_code == 401, unauthenticated.text
        body = CountedBody(huge_json())
        response = await send(http, GENERIC[0], body, BEARER, chunked=chunked)
    assert_too_large(response)
    assert await stored(sessions) == (0, 0, 0)
