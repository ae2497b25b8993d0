"""A job many callers may ask for at once: it runs now, and once more if asked again meanwhile.

The intake asks the sweep to queue a survey that is due at once. A burst of closings must not
run a sweep per request, nor make the request wait for one: the request only kicks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.resilience import JobOutage

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class CoalescedJob:
    """``kick()`` runs ``job`` in the background; kicks during a run make one more run."""

    job: Callable[[], Awaitable[object]]
    name: str
    _task: asyncio.Task[None] | None = None
    _again: bool = False
    _outage: JobOutage = field(init=False)

    def __post_init__(self) -> None:
        self._outage = JobOutage(self.name)

    def kick(self) -> None:
        """Ask for a run soon; never waits and never raises."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await self._outage.run(self.job)  # an outage: one WARNING, not one per kick
            except Exception:  # the scheduled run will do the same work later
                logger.exception("%s failed; the next scheduled run will retry", self.name)
            if not self._again:
                return

    async def aclose(self) -> None:
        """Let a run in flight finish (shutdown, or a one-shot command about to exit)."""
        if self._task is not None:
            await self._task
