"""Hostile bodies at Telegram's webhook route, with the right secret token: a decision, never a
crash. A body Telegram could not have sent is a 400; an update PTB cannot read is acknowledged
with 200 and dropped (Telegram would retry anything else forever). Never a 500, never a 503,
and nothing is stored either way (a body over the server's 1 MiB cap is a 413, unread)."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import SQLModel, select

from bot.intake.bodylimit import DEFAULT_MAX_BODY_BYTES
from bot.webhook import MAX_DEPTH, SECRET_HEADER, derive_webhook_secret
from tests.e2e.conftest import Harness
from tests.e2e.test_observability import scrape
from tests.e2e.test_webhook_mode import webhook_mode
from tests.intake.hostile import GARBAGE, HOSTILE_TEXT, JSON_VALUES, dumps
from tests.observability.scrape import delta

ROUTE = "/tg/updates"
STRANGER = 987_654  # a Telegram user the product has never heard of

# Updates Telegram could send, each handled without storing anything (nobody is linked).
MESSAGE: dict[str, Any] = {
    "update_id": 1000,
    "message": {
        "message_id": 7,
        "date": 1_763_460_000,
        "chat": {"id": STRANGER, "type": "private", "first_name": "Eve"},
        "from": {"id": STRANGER, "is_bot": False, "first_name": "Eve", "language_code": "en"},
        "text": "hello",
    },
}
PRESS: dict[str, Any] = {
    "update_id": 1001,
    "callback_query": {
        "id": "42",
        "from": {"id": STRANGER, "is_bot": False, "first_name": "Eve"},
        "chat_instance": "1",
        "data": "nps:1:10",
        "message": {
            "message_id": 8,
            "date": 1_763_460_000,
            "chat": {"id": STRANGER, "type": "private", "first_name": "Eve"},
        },
    },
}
BASES = [MESSAGE, PRESS]
# Timestamps datetime.fromtimestamp refuses, each in its own way (ValueError, OverflowError,
# and OSError, which an outage handler would take for a lost database).
BAD_DATES = [10**12, -(10**12), 2**63, -(2**63), 1e308]
# Integers Telegram never sends as an update_id.
BAD_UPDATE_IDS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(max_value=-1),
    st.integers(min_value=2**63),
    st.floats(),
    HOSTILE_TEXT,
)


def paths(value: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path in a JSON document, interior ones included."""
    found: list[tuple[str, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A real update with some values replaced by any JSON (or a bad date), or removed."""
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for path in draw(st.lists(st.sampled_from(paths(data)), min_size=1, max_size=4)):
        target: Any = data
        for key in path[:-1]:
            if not isinstance(target, dict) or key not in target:
                break
            target = target[key]
        else:
            if isinstance(target, dict):
                action = draw(st.sampled_from(["drop", "json", "date"]))
                if action == "drop":
                    target.pop(path[-1], None)
                elif action == "json":
                    target[path[-1]] = draw(JSON_VALUES)
                else:
                    target[path[-1]] = draw(st.sampled_from(BAD_DATES))
    return data


def start_command() -> dict[str, Any]:
    """A stranger's /start: handled, it would greet them (an outbox row)."""
    update = copy.deepcopy(MESSAGE)
    update["message"]["text"] = "/start"
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
    return update


def nested(depth: int) -> bytes:
    """An update whose message nests replies ``depth`` deep (built as text: no recursion)."""
    message = json.dumps(MESSAGE["message"])[:-1]  # without its closing brace
    replies = f'{message}, "reply_to_message": ' * depth + message + "}" * (depth + 1)
    return f'{{"update_id": 1002, "message": {replies}}}'.encode()


BODIES = st.one_of(
    GARBAGE,
    st.builds(dumps, JSON_VALUES, escaped=st.booleans()),
    st.builds(dumps, mutated(), escaped=st.booleans()),
    st.builds(dumps, mutated(), escaped=st.booleans()),
    st.builds(
        dumps,
        st.builds(
            lambda bad, base: {**base, "update_id": bad}, BAD_UPDATE_IDS, st.sampled_from(BASES)
        ),
        escaped=st.booleans(),
    ),
    st.integers(min_value=MAX_DEPTH - 3, max_value=2_000).map(nested),
)


async def stored(harness: Harness) -> dict[str, int]:
    """How many rows every table holds."""
    assert harness.bot is not None
    counts = {}
    async with harness.bot.services.session_factory() as session:
        for table in SQLModel.metadata.sorted_tables:
            result = await session.exec(select(func.count()).select_from(table))
            counts[table.name] = result.one()
    return counts


async def post(harness: Harness, body: bytes) -> httpx.Response:
    secret = derive_webhook_secret(harness.settings.require_token())
    return await harness.http.post(
        ROUTE, content=body, headers={SECRET_HEADER: secret, "Content-Type": "application/json"}
    )


def decided(response: httpx.Response, size: int) -> None:
    """A 200, or a 400 that names the problem; a 413 for a body over the server's cap."""
    if size > DEFAULT_MAX_BODY_BYTES:  # no Telegram update comes near it
        assert response.status_code == 413, (response.status_code, response.text)
        return
    assert response.status_code in {200, 400}, (response.status_code, response.text)
    if response.status_code == 400:
        assert "Telegram update" in response.json()["detail"], response.text


@pytest.fixture
async def hooked(harness: Harness) -> Harness:
    await webhook_mode(harness)
    return harness


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one product for all examples
)
@given(data=st.data())
async def test_any_body_is_answered_200_or_400_and_stores_nothing(
    hooked: Harness, data: st.DataObject
) -> None:
    body = data.draw(BODIES)
    before = await stored(hooked)
    decided(await post(hooked, body), len(body))
    assert await stored(hooked) == before


@pytest.mark.parametrize(
    "body",
    [
        b"5",
        b"[]",
        b"null",
        b'"update"',
        b"{}",
        b'{"message":5}',
        b'{"message": {}}',
        b'{"update_id": 1, "message": 5}',
        b'{"update_id": 1, "message": []}',
        b'{"update_id": "1", "message": {}}',
        b'{"update_id": true}',
        b'{"update_id": -1}',
        b'{"update_id": 1e3}',
        b"{not json",
        b"\xff\xfe",
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"[" * 100_000,
        nested(MAX_DEPTH),
    ],
    ids=lambda body: body[:24].decode("utf-8", "replace"),
)
async def test_a_body_telegram_could_not_have_sent_is_a_400(hooked: Harness, body: bytes) -> None:
    before = await stored(hooked)
    answer = await post(hooked, body)
    assert answer.status_code == 400, answer.text
    assert "not a Telegram update" in answer.json()["detail"]
    assert await stored(hooked) == before


@pytest.mark.parametrize("date", BAD_DATES)
async def test_an_update_ptb_cannot_read_is_acknowledged_and_dropped(
    hooked: Harness, date: float, caplog: pytest.LogCaptureFixture
) -> None:
    update = start_command()
    update["message"]["date"] = date
    before = await stored(hooked)
    with caplog.at_level(logging.WARNING, logger="bot.updates"):
        answer = await post(hooked, json.dumps(update).encode())
    assert answer.status_code == 200  # Telegram would retry anything else forever
    assert await stored(hooked) == before  # not processed: /start would have greeted
    dropped = [r for r in caplog.records if r.name == "bot.updates"]
    assert len(dropped) == 1
    message = dropped[0].getMessage()
    assert "dropped update 1000" in message
    assert "Eve" not in message and str(STRANGER) not in message  # no personal data


async def test_a_readable_update_is_still_handled(hooked: Harness) -> None:
    """The checks refuse nothing Telegram sends: /start from a stranger is greeted."""
    eve = hooked.fake.client(STRANGER, "Eve")
    answer = await post(hooked, json.dumps(start_command()).encode())
    assert answer.status_code == 200
    await eve.wait_for_bot_message(lambda m: bool(m.content))


async def test_a_body_of_no_telegram_shape_is_counted_and_logged_as_polling_does(
    hooked: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, webhook mode answered 400 and said nothing: polling dropped, counted and logged."""
    update = start_command()
    update["message"]["from"]["id"] = 10**30
    before = await scrape(hooked)
    with caplog.at_level(logging.WARNING, logger="bot.updates"):
        answer = await post(hooked, json.dumps(update).encode())
    assert answer.status_code == 400
    after = await scrape(hooked)
    assert delta(before, after, "npsbot_telegram_updates_dropped_total", reason="malformed") == 1
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.updates"]
    assert "not of Telegram's shape (the user id is not an integer)" in line
