"""Text from outside as every database keeps it: one rule for the intake and for Telegram."""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """``text`` with each lone UTF-16 surrogate replaced by U+FFFD (NUL kept)."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def database_safe(text: str) -> str:
    """``text`` with NUL dropped and each lone UTF-16 surrogate replaced by U+FFFD.

    PostgreSQL refuses NUL, which no person types, and cannot encode half of a surrogate pair
    (half an emoji, which JSON can carry as an escape): the statement failed, the client's
    comment was lost, and the driver's error quoted it into the log.
    """
    if text.isascii():  # most text, and no surrogate is ASCII: one C pass, no regex
        return text.replace("\x00", "")
    return replace_surrogates(text.replace("\x00", ""))
