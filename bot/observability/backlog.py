"""Outbox gauges, read from the database when Prometheus scrapes, not kept up per event.

Counting every enqueue and every result would put work on the hot paths and drift after a
restart; the database knows the truth. A scrape reads it with one grouped statement, at most
once per ``cache_for`` however many scrapers there are, and gives up after ``timeout`` so a
slow database does not hold the scrape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric

from bot.core.clock import Clock
from storage.db import SessionFactory
from storage.health import OutboxBacklog, outbox_backlog

logger = logging.getLogger(__name__)

DEPTH = "npsbot_outbox_depth"
DEPTH_HELP = (
    "Outbox calls not made yet, by status: pending (due, or waiting to be retried) and sending "
    "(claimed by a dispatcher). Read from the database at scrape time."
)
OLDEST = "npsbot_outbox_oldest_pending_age_seconds"
OLDEST_HELP = (
    "Age of the oldest outbox call not made yet (pending or sending), 0 when there is none. "
    "Read from the database at scrape time."
)


@dataclass(slots=True, eq=False)  # registries key collectors by identity
class OutboxGauges:
    """A Prometheus collector; ``refresh`` (async) before each scrape, ``collect`` reads it."""

    session_factory: SessionFactory
    clock: Clock
    cache_for: timedelta = timedelta(seconds=5)
    timeout: float = 2.0
    _backlog: OutboxBacklog | None = None
    _read_at: datetime | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _fresh(self, now: datetime) -> bool:
        # A clock set back counts as stale, so a jump cannot freeze the numbers.
        read_at = self._read_at
        return read_at is not None and read_at <= now < read_at + self.cache_for

    async def refresh(self) -> None:
        """Read the backlog unless a recent read will do; concurrent scrapes share one read."""
        if self._fresh(self.clock()):
            return
        async with self._lock:
            now = self.clock()
            if self._fresh(now):
                return
            try:
                async with asyncio.timeout(self.timeout), self.session_factory() as session:
                    self._backlog = await outbox_backlog(session)
            except Exception as error:  # any failure: the counters are scraped all the same
                # No numbers rather than stale ones; the type only, as messages may quote SQL.
                logger.warning(
                    "outbox gauges: the database did not answer (%s)", type(error).__name__
                )
                self._backlog = None
            self._read_at = now  # a failed read is cached too: a down database is not hammered

    def describe(self) -> Iterator[Metric]:
        """The families without samples, so registering does not read anything."""
        yield GaugeMetricFamily(DEPTH, DEPTH_HELP, labels=["status"])
        yield GaugeMetricFamily(OLDEST, OLDEST_HELP)

    def collect(self) -> Iterator[Metric]:
        """The last read's numbers; none after a failed read, so the gauges show a gap."""
        depth = GaugeMetricFamily(DEPTH, DEPTH_HELP, labels=["status"])
        oldest = GaugeMetricFamily(OLDEST, OLDEST_HELP)
        backlog = self._backlog
        if backlog is not None:
            for status, count in sorted(backlog.waiting.items()):
                depth.add_metric([status], count)
            age = 0.0
            if backlog.oldest_created_at is not None:
                age = max(0.0, (self.clock() - backlog.oldest_created_at).total_seconds())
            oldest.add_metric([], age)
        yield depth
        yield oldest
