"""Logging set-up for the CLI: one line per event, as text or JSON, no personal data.

Our own messages carry ids and error types only. Libraries that would log secrets or personal
data are held above the levels where they do: httpx logs every request URL, and a Bot API URL
holds the token; python-telegram-bot's DEBUG lines hold the token (the API URL) and every
call's parameters and answers (message texts, names); aiosqlite's DEBUG lines hold every
statement with its parameters. PTB's Application logs a whole update (names, texts, phone
numbers of shared contacts) at CRITICAL when it cannot build a handler's context, and its Bot
logs a whole ``getUpdates`` answer at CRITICAL when one update in it cannot be parsed (our poller
reads updates one by one and never gets there, but a PTB upgrade or a direct call might): their
records have updates, parsed or raw, replaced by their ids (``RedactUpdates``).
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import IO, Literal

from pythonjsonlogger.json import JsonFormatter
from telegram import TelegramObject, Update

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The least level of each library logger, whatever NPSBOT_LOG_LEVEL says.
FLOORS = {
    "httpx": logging.WARNING,
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
    "pymorphy3": logging.WARNING,  # says where its dictionaries are, once per process
    "telegram": logging.INFO,
    "aiosqlite": logging.INFO,
}


# The PTB loggers whose records may carry an update, parsed or raw, among their arguments.
UPDATE_LOGGERS = ("telegram.ext.Application", "telegram.Bot", "telegram.ext.ExtBot")


class RedactUpdates(logging.Filter):
    """Replaces Telegram objects among a record's arguments by what names them, not what they hold.

    An update prints as ``Update(update_id=..., message=Message(text=..., from_user=User(...)))``,
    a raw one as its JSON; logged as ``update 123`` it still lets an operator find it, without
    personal data. Other JSON (a Bot API answer) is replaced by its type: these loggers' own
    arguments are ids, names of methods and numbers, never dictionaries or lists.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, dict):  # logger.info("%(name)s", {...}): one mapping
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        return True


def _redacted(value: object) -> object:
    if isinstance(value, Update):
        return f"update {value.update_id}"
    if isinstance(value, TelegramObject):
        return f"a {type(value).__name__}"
    if isinstance(value, dict):
        update_id = value.get("update_id")
        return f"update {update_id}" if isinstance(update_id, int) else "a JSON object"
    if isinstance(value, list | tuple) and not isinstance(value, str):
        return f"[{', '.join(str(_redacted(item)) for item in value)}]"
    return value


def without_message(error: BaseException) -> str:
    """An error's type and the frames it was raised through, without its message.

    A message may quote what the error was about: a driver quotes the statement's parameters
    (a client's comment), ``int()`` the text it could not read. The frames say where, which is
    what finding the fault needs.
    """
    frames = "".join(traceback.format_tb(error.__traceback__)).rstrip()
    return f"{type(error).__name__}, raised at:\n{frames}" if frames else type(error).__name__


def json_formatter() -> logging.Formatter:
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message, extras.

    Fields passed with ``extra=`` are included; an exception's traceback is ``exception``.
    """
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
        timestamp=True,
        json_ensure_ascii=False,
    )


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of ``NPSBOT_LOG_FORMAT``."""
    if log_format == "json":
        return json_formatter()
    return logging.Formatter(TEXT_FORMAT)


def hold_back_libraries(level: str) -> None:
    """Keep each library logger in ``FLOORS`` at its floor, or at ``level`` if that is higher."""
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    for name in UPDATE_LOGGERS:
        updates = logging.getLogger(name)
        if not any(isinstance(f, RedactUpdates) for f in updates.filters):
            updates.addFilter(RedactUpdates())


def configure_logging(
    level: str, log_format: LogFormat = "text", *, stream: IO[str] | None = None
) -> None:
    """Log to ``stream`` (stderr) at ``level``, as text or JSON.

    Like ``logging.basicConfig`` (which it uses), it leaves a root logger that already has
    handlers alone, e.g. under a test runner; the library floors apply either way.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter(log_format))
    hold_back_libraries(level)
    logging.basicConfig(level=level.upper(), handlers=[handler])
