"""How the Bot API has been answering: error kinds for the metrics, and when it last answered.

The transport (``bot.delivery.aiohttp_request``) reports every call it makes, whoever made it:
the outbox's sends, polling's ``getUpdates``, toasts, the command menu, the readiness ``getMe``.
So readiness can tell whether Telegram is reachable without a call of its own while the process
is busy, and the error counter covers every kind of call.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

from prometheus_client import Counter


class ErrorKind(enum.StrEnum):
    """A failed Bot API call, as an operator tells them apart (the ``kind`` label)."""

    TOO_MANY_REQUESTS = "too_many_requests"  # 429, with retry_after
    SERVER_ERROR = "server_error"  # 5xx: Telegram, or a proxy in front of it, failed
    TIMEOUT = "timeout"
    NETWORK = "network"  # no HTTP answer at all: DNS, refused, reset
    FORBIDDEN = "forbidden"  # 403: blocked by the client, or not allowed in the chat
    CHAT_NOT_FOUND = "chat_not_found"  # 400 naming an unknown chat or user
    BAD_REQUEST = "bad_request"  # other 4xx: Telegram refused the call itself
    CONFLICT = "conflict"  # 409: another getUpdates poller, or a webhook is set
    INVALID_TOKEN = "invalid_token"  # noqa: S105  (401/404: the token is wrong or revoked)
    CHAT_MIGRATED = "chat_migrated"  # 400: a group became a supergroup
    OTHER = "other"  # an HTTP status no Bot API answer has (a proxy's 3xx, ...)


# Kinds that are an answer from Telegram: it is reachable, and the call was the problem.
REACHED = frozenset(
    {
        ErrorKind.TOO_MANY_REQUESTS,
        ErrorKind.FORBIDDEN,
        ErrorKind.CHAT_NOT_FOUND,
        ErrorKind.BAD_REQUEST,
        ErrorKind.CONFLICT,
        ErrorKind.CHAT_MIGRATED,
    }
)
_SUCCESS = range(HTTPStatus.OK, HTTPStatus.MULTIPLE_CHOICES)
_BY_STATUS: dict[int, ErrorKind] = {
    HTTPStatus.TOO_MANY_REQUESTS: ErrorKind.TOO_MANY_REQUESTS,
    HTTPStatus.FORBIDDEN: ErrorKind.FORBIDDEN,
    HTTPStatus.UNAUTHORIZED: ErrorKind.INVALID_TOKEN,
    HTTPStatus.NOT_FOUND: ErrorKind.INVALID_TOKEN,  # Telegram's answer to a malformed token
    HTTPStatus.CONFLICT: ErrorKind.CONFLICT,
}


def _bad_request(body: bytes) -> ErrorKind:
    """A 400 as PTB reads it: a moved group, an unknown chat, or a call Telegram refused."""
    try:
        answer = json.loads(body)
    except ValueError:
        return ErrorKind.BAD_REQUEST
    if not isinstance(answer, dict):
        return ErrorKind.BAD_REQUEST
    parameters = answer.get("parameters")
    if isinstance(parameters, dict) and parameters.get("migrate_to_chat_id"):
        return ErrorKind.CHAT_MIGRATED
    description = str(answer.get("description") or "").lower()
    if "chat not found" in description or "user not found" in description:
        return ErrorKind.CHAT_NOT_FOUND
    return ErrorKind.BAD_REQUEST


def answer_kind(status: int, body: bytes) -> ErrorKind | None:
    """What an HTTP answer of the Bot API means: None for success, else the kind of error.

    Judged from the status as PTB does (``BaseRequest``), not from PTB's exceptions: PTB
    raises the same ``NetworkError`` for a 5xx answer and for no answer at all. Only a 400's
    body is read, to tell an unknown chat from a refused call.
    """
    if status in _SUCCESS:  # the common case first, on plain ints: once per Bot API call
        return None
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ErrorKind.SERVER_ERROR
    if status == HTTPStatus.BAD_REQUEST:
        return _bad_request(body)
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= HTTPStatus.BAD_REQUEST:
        return ErrorKind.BAD_REQUEST  # 413 and the like: Telegram refused the call
    return ErrorKind.OTHER


@dataclass(slots=True)
class TelegramWatch:
    """Fed by the transport with each call's outcome; remembers when Telegram last answered.

    A comparison, a counter increment and an attribute write per successful call: cheap enough
    for the outbox at paid-broadcast rates.
    """

    requests: Counter
    errors: Counter  # labelled by ``kind``
    clock: Callable[[], float] = time.monotonic
    last_answer: float | None = None  # monotonic seconds
    last_failure: ErrorKind | None = None  # the latest call Telegram did not answer, if any
    _by_kind: dict[ErrorKind, Counter] = field(init=False)

    def __post_init__(self) -> None:
        # Resolved once: every kind is exported from the start, at 0, and counting skips the
        # label look-up.
        self._by_kind = {kind: self.errors.labels(kind=kind.value) for kind in ErrorKind}

    def answered(self, status: int, body: bytes) -> None:
        """Telegram answered a call with ``status`` (the transport's ``CallObserver``)."""
        self.requests.inc()
        kind = answer_kind(status, body)
        if kind is not None:
            self._by_kind[kind].inc()
        if kind is None or kind in REACHED:
            self.last_answer = self.clock()
            self.last_failure = None
        else:
            self.last_failure = kind

    def unanswered(self, error: Exception) -> None:
        """A call got no HTTP answer: timed out, or the connection failed."""
        self.requests.inc()
        kind = ErrorKind.TIMEOUT if isinstance(error, TimeoutError) else ErrorKind.NETWORK
        self._by_kind[kind].inc()
        self.last_failure = kind

    def answered_within(self, seconds: float) -> bool:
        """Whether Telegram answered a call in the last ``seconds``."""
        return self.last_answer is not None and self.clock() - self.last_answer <= seconds
