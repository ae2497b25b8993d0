"""Readiness: may this instance take traffic? The database answers, Telegram is reachable, and
(when polling) the loop that asks Telegram for updates is alive.

Load balancers probe every few seconds, several of them at once, so a probe must be cheap:
the database gets one ``SELECT 1`` with a short timeout, and Telegram is judged by the calls the
process makes anyway (``TelegramWatch``). Only a process that has not heard from Telegram for
a while (webhook mode with nothing to send) asks ``getMe``, at most once per ``probe_every``
however many probes come, and a probe waits for that answer only briefly.

A check answers None when all is well, or a short reason fit for a public body: error types
and kinds only, never a message (a driver's message may name the host, the user or SQL).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
)

from bot.observability.telegram import TelegramWatch
from storage.health import ping

Check = Callable[[], Awaitable[str | None]]
# Errors that are Telegram's answer: it is there, whatever it thought of the call.
_ANSWERS = (RetryAfter, Conflict, Forbidden, BadRequest, ChatMigrated)


@dataclass(slots=True)
class DatabaseCheck:
    """``SELECT 1`` within ``timeout`` seconds."""

    engine: AsyncEngine
    timeout: float = 2.0

    async def __call__(self) -> str | None:
        """None when the database answered in time."""
        try:
            async with asyncio.timeout(self.timeout):
                await ping(self.engine)
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except Exception as error:  # any failure means not ready; named by its type
            return f"unavailable ({type(error).__name__})"
        return None


@dataclass(slots=True)
class TelegramCheck:
    """Reachable if Telegram answered any call lately; otherwise ask ``getMe`` now and then."""

    watch: TelegramWatch
    probe: Callable[[], Awaitable[object]]  # the bot's getMe
    fresh_for: float = 30.0  # seconds an answer to any call keeps Telegram "reachable"
    probe_every: float = 15.0  # the least time between two getMe of readiness's own
    wait: float = 3.0  # how long one readiness request waits for a getMe
    clock: Callable[[], float] = time.monotonic
    _probed_at: float | None = None
    _problem: str | None = None  # what the last getMe found
    _task: asyncio.Task[None] | None = None

    async def __call__(self) -> str | None:
        """None when Telegram is reachable; else why not."""
        if self.watch.answered_within(self.fresh_for):
            return None
        now = self.clock()
        due = self._probed_at is None or now - self._probed_at >= self.probe_every
        if self._task is None and due:
            self._probed_at = now
            self._task = asyncio.create_task(self._probe(), name="readiness-getMe")
        if self._task is not None:
            try:  # shielded: a probe that outlives this request still records its answer
                await asyncio.wait_for(asyncio.shield(self._task), self.wait)
            except TimeoutError:
                return f"no answer to getMe within {self.wait:g} s"
        return self._problem

    async def _probe(self) -> None:
        try:
            await self.probe()
        except InvalidToken:
            self._problem = "the bot token was rejected"
        except _ANSWERS:
            self._problem = None
        except Exception as error:  # whatever it is, Telegram did not answer
            kind = self.watch.last_failure  # the transport's judgement (5xx, timeout, ...)
            self._problem = f"unreachable ({kind.value if kind else type(error).__name__})"
        else:
            self._problem = None
        finally:
            self._task = None

    async def aclose(self) -> None:
        """Let a getMe in flight finish before the bot's HTTP session closes."""
        if self._task is not None:
            await asyncio.shield(self._task)


class Loop(Protocol):
    """A background loop that says whether it is alive (``bot.polling.ReliablePoller``)."""

    @property
    def running(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class PollingCheck:
    """Polling is alive: without it no tap, comment or /start is handled, whatever else works."""

    poller: Loop

    async def __call__(self) -> str | None:
        """None while the polling loop runs."""
        return None if self.poller.running else "not polling for updates (the loop stopped)"


@dataclass(frozen=True, slots=True)
class Readiness:
    """Named checks, run together."""

    checks: Mapping[str, Check]

    async def report(self) -> tuple[bool, dict[str, str]]:
        """Whether every check passed, and each check's "ok" or reason."""
        problems = await asyncio.gather(*(check() for check in self.checks.values()))
        found = {name: problem or "ok" for name, problem in zip(self.checks, problems, strict=True)}
        return all(problem is None for problem in problems), found
