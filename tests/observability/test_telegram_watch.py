"""Every Bot API call's outcome reaches the watch: error kinds for the metrics, the last answer
for readiness. Judged from HTTP answers, and through the real transport against the fake."""

from __future__ import annotations

import json
import socket
import traceback

import pytest
import telegram
from aiohttp import web
from prometheus_client import generate_latest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery.aiohttp_request import AiohttpRequest
from bot.observability.metrics import Metrics
from bot.observability.telegram import ErrorKind, answer_kind
from bot.sandbox.server import FakeBotApi
from tests.observability.scrape import samples, value

CHAT = 4242


def body(description: str, **parameters: object) -> bytes:
    answer: dict[str, object] = {"ok": False, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return json.dumps(answer).encode()


@pytest.mark.parametrize(
    ("status", "answer", "kind"),
    [
        (200, b'{"ok":true,"result":true}', None),
        (429, body("Too Many Requests: retry after 3", retry_after=3), "too_many_requests"),
        (500, body("Internal Server Error"), "server_error"),
        (502, b"<html>Bad Gateway</html>", "server_error"),
        (403, body("Forbidden: bot was blocked by the user"), "forbidden"),
        (400, body("Bad Request: chat not found"), "chat_not_found"),
        (400, body("Bad Request: user not found"), "chat_not_found"),
        (400, body("Bad Request: message text is empty"), "bad_request"),
        (400, body("Bad Request: upgraded", migrate_to_chat_id=-100123), "chat_migrated"),
        (400, b"not json", "bad_request"),
        (400, b"[1]", "bad_request"),
        (409, body("Conflict: terminated by other getUpdates request"), "conflict"),
        (401, body("Unauthorized"), "invalid_token"),
        (404, body("Not Found"), "invalid_token"),
        (413, body("Request Entity Too Large"), "bad_request"),
        (302, b"", "other"),
    ],
)
def test_answers_are_judged_by_status_as_ptb_does(
    status: int, answer: bytes, kind: str | None
) -> None:
    assert answer_kind(status, answer) == (None if kind is None else ErrorKind(kind))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def errors(metrics: Metrics) -> dict[str, float]:
    """Telegram errors by kind, and all calls as "requests", from the exposition."""
    found = samples(generate_latest(metrics.registry))
    counts = {
        kind.value: value(found, "npsbot_telegram_errors_total", kind=kind.value)
        for kind in ErrorKind
    }
    return {"requests": value(found, "npsbot_telegram_requests_total")} | {
        kind: count for kind, count in counts.items() if count
    }


def test_the_watch_counts_calls_and_remembers_the_last_answer() -> None:
    metrics, clock = Metrics(), Clock()
    watch = metrics.telegram
    watch.clock = clock
    assert errors(metrics) == {"requests": 0}  # every kind exported at 0 from the start
    assert not watch.answered_within(30)

    watch.answered(200, b"{}")
    clock.now += 20
    watch.unanswered(TimeoutError())
    assert watch.last_failure is ErrorKind.TIMEOUT
    assert watch.answered_within(30)  # a time-out does not undo the answer of 20 s ago
    clock.now += 11
    assert not watch.answered_within(30)
    watch.answered(429, body("Too Many Requests", retry_after=1))  # Telegram answered
    assert watch.answered_within(30) and watch.last_failure is None
    clock.now += 31
    watch.answered(502, b"")  # a 5xx is no answer of the Bot API's
    watch.unanswered(OSError())
    assert not watch.answered_within(30) and watch.last_failure is ErrorKind.NETWORK

    assert errors(metrics) == {
        "requests": 5,
        "timeout": 1,
        "too_many_requests": 1,
        "server_error": 1,
        "network": 1,
    }


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_transport_reports_every_outcome_of_real_calls() -> None:
    metrics = Metrics()
    async with FakeBotApi() as fake:
        chats = [CHAT + n for n in range(4)]  # one message each: the fake keeps 1/s per chat
        for chat in chats:
            fake.client(chat, "Client")
        request = AiohttpRequest(observer=metrics.telegram, read_timeout=0.5)
        async with telegram.Bot(fake.token, base_url=fake.base_url, request=request) as bot:
            await bot.send_message(chats[0], "hello")
            fake.fail_next("sendMessage", status=502)
            with pytest.raises(NetworkError):
                await bot.send_message(chats[1], "hello")
            fake.fail_next("sendMessage", retry_after=2)
            with pytest.raises(RetryAfter):
                await bot.send_message(chats[2], "hello")
            with pytest.raises(BadRequest):
                await bot.send_message(99999, "nobody")  # chat not found
            fake.block(chats[3])
            with pytest.raises(Forbidden):
                await bot.send_message(chats[3], "hello")
            # The initialize getMe, the first sendMessage, and the four failures.
            assert errors(metrics) == {
                "requests": 6,
                "server_error": 1,
                "too_many_requests": 1,
                "chat_not_found": 1,
                "forbidden": 1,
            }
            assert metrics.telegram.answered_within(60)

    request = AiohttpRequest(observer=metrics.telegram)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{closed_port()}/bot1:x/getMe")
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()
    assert metrics.telegram.last_failure is ErrorKind.NETWORK
    assert errors(metrics)["network"] == 1


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.telegram.answered(500, b"")
    assert errors(first)["server_error"] == 1
    assert errors(second) == {"requests": 0}


async def test_a_transport_error_that_quotes_the_url_never_carries_the_token() -> None:
    # A proxy that redirects in a loop: aiohttp's TooManyRedirects names the URL, token and all.
    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(location=str(request.rel_url))

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", loop)
    runner = web.AppRunner(server)
    await runner.setup()
    port = closed_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    secret = "-".join(("SECRET", "TOKEN"))  # built, so the traceback's source lines lack it
    request = AiohttpRequest(observer=Metrics().telegram)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot123:{secret}/getMe")
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert "TooManyRedirects" in str(raised.value)
    shown = "".join(traceback.format_exception(raised.value))  # what exc_info would log
    assert secret not in shown
