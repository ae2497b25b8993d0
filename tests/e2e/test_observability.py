"""What an operator sees of the running product: /metrics over HTTP counting a ticket to its
alert exactly, the outbox gauges, the metrics token, /readyz, and JSON logs with no one's
personal data in them."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from pydantic import SecretStr

from bot.logs import FLOORS, formatter, hold_back_libraries
from storage import outbox
from storage.models import OutboxMessage
from tests.e2e.conftest import MANAGERS, Harness, ticket
from tests.e2e.test_webhook_mode import webhook_mode
from tests.observability.scrape import Key, delta, samples, series, value
from tests.test_polling import unreadable_message

CLIENT = 5701
GAUGE_CACHE = timedelta(seconds=5)  # bot.observability.backlog.OutboxGauges.cache_for


async def scrape(harness: Harness, **headers: str) -> dict[Key, float]:
    response = await harness.http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return samples(response.text)


async def drained(harness: Harness) -> None:
    """Wait until every call the flow queued has been made and recorded."""
    assert harness.bot is not None
    for _ in range(600):
        async with harness.bot.services.session_factory() as session:
            if await outbox.pending_count(session) == 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not drain")


def past_the_gauge_cache(harness: Harness) -> None:
    """Move the bot's clock on, so the next scrape reads the outbox afresh."""
    harness.clock.move_to(harness.clock() + GAUGE_CACHE + timedelta(seconds=1))


async def test_metrics_count_a_ticket_to_its_alert_exactly(harness: Harness) -> None:
    client = harness.fake.client(CLIENT, "Anna")
    before = await scrape(harness)
    harness.fake.fail_next("sendMessage", status=502)  # the question's first try
    body = ticket("M-1", {"id": "c-m1", "telegram_user_id": CLIENT})
    assert (await harness.close_ticket(body)).json()["created"] is True
    assert (await harness.close_ticket(body)).json()["created"] is False  # a retry

    question = await client.wait_for_bot_message(lambda m: "recommend" in m.content)
    await client.press_button(question, "3")
    await client.wait_for_bot_message(lambda m: "What went wrong?" in m.content)
    await client.send_text("Slow and rude")
    await client.wait_for_bot_message(lambda m: "Thank you for your feedback" in m.content)
    await harness.fake.wait_for(lambda m: "Slow and rude" in m.content, chat_id=MANAGERS)
    await drained(harness)
    past_the_gauge_cache(harness)
    after = await scrape(harness)

    def moved(name: str, **labels: str) -> float:
        return delta(before, after, name, **labels)

    assert moved("npsbot_tickets_received_total", source="api", outcome="created") == 1
    assert moved("npsbot_tickets_received_total", source="api", outcome="duplicate") == 1
    assert moved("npsbot_tickets_received_total", source="api", outcome="skipped") == 0
    assert {
        outcome: moved("npsbot_survey_deliveries_total", outcome=outcome)
        for outcome in ("sent", "unreachable", "waiting_for_start", "failed", "expired")
    } == {"sent": 1, "unreachable": 0, "waiting_for_start": 0, "failed": 0, "expired": 0}
    assert {
        band: moved("npsbot_answers_total", band=band)
        for band in ("detractor", "passive", "promoter")
    } == {"detractor": 1, "passive": 0, "promoter": 0}
    assert moved("npsbot_surveys_completed_total", comment="text") == 1
    assert moved("npsbot_alerts_queued_total") == 1
    assert moved("npsbot_outbox_calls_total", purpose="survey", result="retry") == 1
    assert moved("npsbot_outbox_calls_total", purpose="survey", result="sent") == 1
    # The alert, then its edit once the comment came.
    assert moved("npsbot_outbox_calls_total", purpose="alert", result="sent") == 2
    errors = {
        dict(labels)["kind"]: number - before.get(("npsbot_telegram_errors_total", labels), 0)
        for labels, number in series(after, "npsbot_telegram_errors_total").items()
    }
    assert {kind: count for kind, count in errors.items() if count} == {"server_error": 1}
    # Every message the client and the managers saw was a Bot API call, and more (getUpdates).
    seen = len(client.bot_messages()) + len(harness.fake.bot_messages(MANAGERS))
    assert moved("npsbot_telegram_requests_total") > seen

    assert series(after, "npsbot_outbox_depth") == {
        frozenset({("status", "pending")}): 0,
        frozenset({("status", "sending")}): 0,
    }
    assert value(after, "npsbot_outbox_oldest_pending_age_seconds") == 0

    # A call waiting for an hour (say, retried through an outage) shows in the gauges.
    assert harness.bot is not None
    queued_at = harness.clock() - timedelta(hours=1)
    async with harness.bot.services.session_factory() as session:
        session.add(
            OutboxMessage(
                method="sendMessage",
                chat_id=CLIENT,
                payload={"text": "later"},
                purpose="client",
                not_before=harness.clock() + timedelta(days=1),
                created_at=queued_at,
            )
        )
        await session.commit()
    past_the_gauge_cache(harness)
    waiting = await scrape(harness)
    assert value(waiting, "npsbot_outbox_depth", status="pending") == 1
    age = value(waiting, "npsbot_outbox_oldest_pending_age_seconds")
    assert 3600 + GAUGE_CACHE.total_seconds() < age < 3600 + 120


async def test_metrics_ask_for_the_token_when_one_is_set(harness: Harness) -> None:
    token = SecretStr("scrape-s3cret")
    harness.settings = harness.settings.model_copy(update={"metrics_token": token})
    await harness.restart()
    for headers in ({}, {"Authorization": "Bearer guess"}, {"Authorization": "scrape-s3cret"}):
        refused = await harness.http.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "NPSBOT_METRICS_TOKEN" in refused.json()["error"]
        assert "npsbot_" not in refused.text
    found = await scrape(harness, Authorization="Bearer scrape-s3cret")
    assert value(found, "npsbot_alerts_queued_total") == 0
    # The intake's token is not the metrics token.
    other = await harness.http.get("/metrics", headers={"Authorization": "Bearer intake-s3cret"})
    assert other.status_code == 401


async def test_readyz_in_polling_and_in_webhook_mode(harness: Harness) -> None:
    polling = {"status": "ready", "checks": {"database": "ok", "telegram": "ok", "polling": "ok"}}
    answer = await harness.http.get("/readyz")
    assert (answer.status_code, answer.json()) == (200, polling)
    await webhook_mode(harness)
    ready = {"status": "ready", "checks": {"database": "ok", "telegram": "ok"}}
    get_me = len(harness.fake.calls_of("getMe"))
    for _ in range(20):  # load balancers probing: Telegram answered at start-up just now
        answer = await harness.http.get("/readyz")
        assert (answer.status_code, answer.json()) == (200, ready)
    assert len(harness.fake.calls_of("getMe")) == get_me
    assert (await harness.http.get("/healthz")).json() == {"status": "ok"}


async def test_an_unreadable_update_is_dropped_and_polling_stays_ready_until_it_stops(
    harness: Harness,
) -> None:
    """One update PTB cannot build used to end polling for good, silently, with /readyz 200."""
    before = await scrape(harness)
    with json_logs_at_debug() as stream:
        bad = unreadable_message(harness.fake, 5703)
        client = harness.fake.client(5704, "Lev")
        await client.send_text("/start")  # after the unreadable update, in the same batch or not
        await client.wait_for_bot_message(lambda m: "phone" in m.content.lower())
    after = await scrape(harness)
    assert delta(before, after, "npsbot_telegram_updates_dropped_total", reason="unreadable") == 1
    assert harness.fake.pending_updates() == []  # confirmed: it does not come again
    for personal in ("Karenina", "anna_k", "secret"):
        assert personal not in stream.getvalue()
    assert f"dropped update {bad}" in stream.getvalue()
    ready = await harness.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["polling"] == "ok"

    harness.fake.fail_next("getUpdates", status=401, description="Unauthorized")  # revoked
    await harness.fake.wait_for_call(lambda c: c.method == "getUpdates" and c.status == 401)
    for _ in range(100):
        answer = await harness.http.get("/readyz")
        if answer.status_code == 503:
            break
        await asyncio.sleep(0.02)
    assert answer.status_code == 503
    assert answer.json()["checks"]["polling"].startswith("not polling")


@contextmanager
def json_logs_at_debug() -> Iterator[io.StringIO]:
    """Every record at DEBUG as NPSBOT_LOG_FORMAT=json writes it, library floors applied."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in ("", *FLOORS)}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    hold_back_libraries("DEBUG")
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


async def test_json_logs_carry_no_personal_data(harness: Harness) -> None:
    customer = {
        "id": "c-pii",
        "name": "Zinaida Pirogova",
        "phone": "+7 912 345-67-89",
        "company": "Globex",
    }
    with json_logs_at_debug() as stream:
        await harness.restart()  # start-up's lines too
        client = harness.fake.client(5702, "Zinaida", username="zina_p")
        await harness.close_ticket(ticket("PII-1", customer))  # no Telegram id: it waits
        await client.send_text("/start")
        await client.wait_for_bot_message(lambda m: "phone" in m.content.lower())
        await client.share_contact("+79123456789")
        question = await client.wait_for_bot_message(lambda m: "recommend" in m.content)
        await client.press_button(question, "2")
        await client.wait_for_bot_message(lambda m: "What went wrong?" in m.content)
        await client.send_text("The courier Vasily was rude")
        await client.wait_for_bot_message(lambda m: "Thank you for your feedback" in m.content)
        await harness.fake.wait_for(lambda m: "Vasily" in m.content, chat_id=MANAGERS)
        await drained(harness)

    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"timestamp", "level", "logger", "message"} <= record.keys() for record in records)
    assert any(record["logger"].startswith("bot.") for record in records)  # it logs, by ids
    for personal in ("Zinaida", "Pirogova", "zina_p", "9123456789", "345-67-89", "Vasily"):
        for line in lines:
            assert personal not in line, line
    assert not [line for line in lines if "courier" in line.lower()]


async def test_uvicorn_lines_are_json_too(harness: Harness) -> None:
    # uvicorn's own logging config would give its loggers a plain-text handler of their own
    # that does not propagate: "Exception in ASGI application" would break the JSON stream.
    with json_logs_at_debug() as stream:
        await harness.restart()  # the embedded server's uvicorn.Config is built again
        logging.getLogger("uvicorn.error").error("Exception in ASGI application")
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {"logger": "uvicorn.error", "message": "Exception in ASGI application"}.items() <= (
        next(record for record in records if record["logger"] == "uvicorn.error").items()
    )
