"""``database_safe``: its ASCII shortcut and its full path give what PostgreSQL stores."""

from __future__ import annotations

import pytest

from bot.core.text import database_safe


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Agent 7", "Agent 7"),  # ASCII: the shortcut
        ("a\x00b\x00", "ab"),  # ASCII with NUL: the shortcut drops it too
        ("Анна\x00", "Анна"),  # not ASCII: the full path
        ("half \ud83d an emoji", "half \ufffd an emoji"),
        ("\x00\udfff", "\ufffd"),
        ("", ""),
    ],
)
def test_text_is_made_storable(given: str, stored: str) -> None:
    assert database_safe(given) == stored
    database_safe(given).encode("utf-8")  # no lone surrogate left
