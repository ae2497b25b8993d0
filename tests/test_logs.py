"""NPSBOT_LOG_FORMAT: today's text lines, or one JSON object per line; libraries that would log
the token or personal data are held back at any level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from telegram import Update
from telegram.ext import (
    Application,
    CallbackContext,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.app import _log_error
from bot.config import Settings
from bot.logs import FLOORS, configure_logging
from bot.sandbox import FakeBotApi


@contextmanager
def bare_root() -> Iterator[logging.Logger]:
    """The root logger without pytest's handlers, as the CLI finds it; restored afterwards.

    Entered in the test itself: pytest adds its capturing handler after the fixtures.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    floors = {name: logging.getLogger(name).level for name in FLOORS}
    root.handlers.clear()
    try:
        yield root
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, floor in floors.items():
            logging.getLogger(name).setLevel(floor)


def fail(log: logging.Logger) -> None:
    try:
        raise RuntimeError("boom")  # noqa: TRY301  (a failure to log)
    except RuntimeError:
        log.exception("outbox round failed; retrying")


def test_json_lines_carry_time_level_logger_message_extras_and_the_exception() -> None:
    stream = io.StringIO()
    with bare_root():
        configure_logging("info", "json", stream=stream)
        log = logging.getLogger("bot.delivery.dispatcher")
        log.info("outbox %d delivered", 17, extra={"purpose": "survey"})
        log.debug("not at INFO")
        fail(log)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["level"] == "INFO" and first["logger"] == "bot.delivery.dispatcher"
    assert first["message"] == "outbox 17 delivered" and first["purpose"] == "survey"
    offset = datetime.fromisoformat(first["timestamp"]).utcoffset()
    assert offset is not None and offset.total_seconds() == 0  # UTC, ISO 8601
    assert second["level"] == "ERROR"
    assert "RuntimeError: boom" in second["exception"] and "Traceback" in second["exception"]


def test_text_is_the_default_and_unchanged() -> None:
    stream = io.StringIO()
    with bare_root():
        configure_logging("INFO", stream=stream)
        logging.getLogger("bot.app").warning("npsbot is running as @%s", "acme_bot")
    line = stream.getvalue().strip()
    assert line.endswith(" WARNING bot.app: npsbot is running as @acme_bot")
    assert not line.startswith("{")


def test_libraries_that_log_secrets_stay_quiet_at_debug() -> None:
    stream = io.StringIO()
    with bare_root():
        configure_logging("DEBUG", "json", stream=stream)
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot1:SECRET/x")
        logging.getLogger("telegram.Bot").debug(
            "Set Bot API URL: https://api.telegram.org/bot1:SECRET"
        )
        logging.getLogger("aiosqlite").debug("executing INSERT ... ('Anna', '+79001234567')")
        logging.getLogger("bot.survey").debug("survey 4 queued")
        logging.getLogger("telegram.ext.Application").info("Application started")
    out = stream.getvalue()
    assert "SECRET" not in out and "Anna" not in out
    assert [json.loads(line)["message"] for line in out.splitlines()] == [
        "survey 4 queued",
        "Application started",
    ]


def test_a_second_call_does_not_add_a_second_handler() -> None:
    with bare_root() as root:
        configure_logging("INFO", stream=io.StringIO())
        configure_logging("INFO", "json", stream=io.StringIO())
        assert len(root.handlers) == 1


def test_an_unknown_format_or_level_is_refused() -> None:
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="yaml", _env_file=None)  # type: ignore[arg-type, call-arg]
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("LOUD")


_AnyContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]


class _ContextThatFails(_AnyContext):
    """A context PTB cannot build: the one case where its Application logs the whole update."""

    @classmethod
    def from_update(cls, update: object, application: Any) -> Any:
        raise RuntimeError("context cannot be built")


async def test_ptb_logs_an_update_it_cannot_handle_by_its_id_not_its_contents() -> None:
    update = Update.de_json(
        {
            "update_id": 4242,
            "message": {
                "message_id": 1,
                "date": 1764633600,
                "chat": {"id": 555, "type": "private", "first_name": "Olga"},
                "from": {"id": 555, "is_bot": False, "first_name": "Olga", "username": "olga_k"},
                "text": "My phone is +7 912 000-00-00",
            },
        },
        None,
    )

    async def never(update: object, context: object) -> None:
        raise AssertionError("no handler may run without a context")

    stream = io.StringIO()
    async with FakeBotApi() as fake:
        application = (
            Application.builder()
            .token(fake.token)
            .base_url(fake.base_url)
            .context_types(ContextTypes(context=_ContextThatFails))
            .build()
        )
        application.add_handler(MessageHandler(filters.ALL, never))
        async with application:  # the real Application, initialised against the fake Bot API
            with bare_root():
                configure_logging("INFO", "json", stream=stream)
                await application.process_update(update)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["level"] == "CRITICAL" and "update 4242" in line["message"]
    for personal in ("Olga", "olga_k", "912", "My phone"):
        assert personal not in stream.getvalue()


async def test_a_handler_error_is_logged_by_type_and_place_not_by_its_message() -> None:
    """A driver's message quotes the parameters (a client's comment); int() the text it read."""
    typed = "SecretComment from Zinaida"  # what a client sent; the frames show only code
    try:
        int(typed)
    except ValueError as error:
        failure = error

    class Context:
        error = failure

    stream = io.StringIO()
    with bare_root():
        configure_logging("INFO", "json", stream=stream)
        await _log_error(None, Context())  # type: ignore[arg-type]
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["level"] == "ERROR" and "ValueError" in line["message"]
    assert "test_logs.py" in line["message"]  # where it was raised
    assert "Secret" not in json.dumps(line) and "Zinaida" not in json.dumps(line)
