"""Fixtures for the sandbox tests: a running fake and a real PTB ``Bot`` pointed at it."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Callable

import pytest
import telegram

from bot.sandbox import FakeBotApi, FloodLimits

NO_LIMITS = FloodLimits(enabled=False)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods.

    Without it PTB 22 emits a deprecation warning whenever it builds ``RetryAfter``, and the
    suite turns warnings into errors.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """A fake without flood limits; flood tests build their own."""
    async with FakeBotApi(limits=NO_LIMITS) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(fake.token, base_url=fake.base_url) as client:
        yield client


def _png(width: int, height: int) -> bytes:
    """A valid grayscale PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def make_png() -> Callable[[int, int], bytes]:
    """Factory of real PNG images, for sendPhoto (the fake rejects non-images)."""
    return _png
