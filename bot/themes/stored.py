"""How a comment's themes are stored and exported: theme ids joined by ";" ("" for none)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

SEPARATOR: Final = ";"  # theme ids never contain it (taxonomy.THEME_ID)


def join_themes(theme_ids: Iterable[str]) -> str:
    """``("speed", "price")`` -> ``"speed;price"``; no themes -> ``""`` (tagged, about none)."""
    return SEPARATOR.join(theme_ids)


def split_themes(stored: str | None) -> tuple[str, ...]:
    """The theme ids of a stored value; None (never tagged) and "" have none."""
    return tuple(part for part in (stored or "").split(SEPARATOR) if part)
