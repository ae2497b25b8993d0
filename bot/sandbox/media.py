"""Recognising uploaded images, so ``sendPhoto`` rejects non-images like Telegram does.

A chart renderer that produces an empty or corrupt file should fail in tests with
``IMAGE_PROCESS_FAILED`` exactly as it would in production, and real dimensions make the
returned ``PhotoSize`` list look like Telegram's.
"""

from __future__ import annotations

import struct

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in _JPEG_SOF_MARKERS:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        (segment_length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + int(segment_length)
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` of a PNG, JPEG, GIF, BMP or WebP image, ``None`` if not an image.

    WebP dimensions are not decoded; it reports ``(0, 0)`` (the fake then assumes 800x600).
    """
    if data.startswith(_PNG_SIGNATURE) and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_size(data)
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 0, 0
    return None
