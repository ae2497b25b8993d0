"""python-telegram-bot's HTTP transport on aiohttp instead of httpx.

PTB talks to Telegram through a ``BaseRequest``; its default one is httpx. Measured against the
fake Bot API (docs/benchmarks.md), httpx spends about a millisecond of CPU per call even with
few calls in flight, and several milliseconds with dozens (its pool scans every connection for
every request); aiohttp spends about a third of a millisecond at any concurrency. The outbox
makes every call, so this is what lets one process keep up with paid broadcasts.

Error mapping follows PTB's own transport: time-outs become ``TimedOut``, other transport
failures ``NetworkError``; HTTP status codes are judged by PTB (``BaseRequest``). An optional
``CallObserver`` hears how every call ended (``bot.observability.telegram`` judges it).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_DEFAULT = type(BaseRequest.DEFAULT_NONE)  # PTB's "not given" marker


class CallObserver(Protocol):
    """Hears how each Bot API call ended, as the transport sees it."""

    def answered(self, status: int, body: bytes) -> None:
        """Telegram answered, with any HTTP status (PTB judges the status after this)."""

    def unanswered(self, error: Exception) -> None:
        """No HTTP answer: a time-out (``TimeoutError``) or a transport failure."""


def _or(value: object, default: float | None) -> float | None:
    """A timeout the caller gave, or ours when PTB passes its "not given" marker."""
    if isinstance(value, _DEFAULT):
        return default
    return None if value is None else float(value)  # type: ignore[arg-type]


class AiohttpRequest(BaseRequest):
    """One aiohttp session per PTB request object (PTB keeps one for getUpdates, one for the rest).

    Timeouts keep PTB's meaning where aiohttp has one: ``connect_timeout`` is the time to get a
    connection (from the pool or a new one), ``read_timeout`` the longest wait for data, and
    ``write_timeout`` (``media_write_timeout`` for uploads) bounds a whole request that sends a
    body, as aiohttp has no separate write timeout.
    """

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
        observer: CallObserver | None = None,
    ) -> None:
        self._observer = observer
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds (PTB adds a long poll's own timeout to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (PTB calls this from ``Bot.initialize``)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(  # noqa: PLR0917  (PTB's BaseRequest signature)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one HTTP request; return its status and body for PTB to judge."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        body = _body(request_data)
        connect = _or(connect_timeout, self._connect_timeout)
        pool = _or(pool_timeout, None)
        write_default = self._media_write_timeout if files else self._write_timeout
        write = _or(write_timeout, write_default) if body is not None else None
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None and pool is None else (connect or 0) + (pool or 0),
            sock_read=_or(read_timeout, self._read_timeout),
        )
        try:
            async with asyncio.timeout(None if write is None else write + (timeout.sock_read or 0)):
                async with self._session.request(
                    method, url, data=body, timeout=timeout
                ) as response:
                    answer = response.status, await response.read()
        except TimeoutError as error:
            if self._observer is not None:
                self._observer.unanswered(error)
            raise TimedOut from error
        except aiohttp.ClientError as error:
            if self._observer is not None:
                self._observer.unanswered(error)
            if isinstance(error, aiohttp.ClientResponseError | aiohttp.InvalidURL):
                # Their text quotes the URL (too many redirects, a proxy's refusal), and a Bot
                # API URL holds the token: neither the message nor a chained cause may carry it.
                raise NetworkError(f"aiohttp.{type(error).__name__}") from None
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
        if self._observer is not None:
            self._observer.answered(*answer)
        return answer


def _body(request_data: RequestData | None) -> Any:
    """Form fields as Telegram takes them: urlencoded, or multipart when there are files."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        filename, content, mime_type = part
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
