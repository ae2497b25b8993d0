"""Signed /start payloads that tie a Telegram chat to a helpdesk survey.

Telegram allows at most 64 characters of ``A-Za-z0-9_-`` after ``?start=``. The payload is the
survey id in base 36 and a truncated HMAC, so it cannot be guessed or altered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from bot.core.survey import MAX_SURVEY_ID

MAX_PAYLOAD_LENGTH = 64
_SIGNATURE_LENGTH = 22  # 132 bits of HMAC-SHA256, in base64url
_PAYLOAD = re.compile(r"^s(?P<id>[0-9a-z]{1,7})_(?P<sig>[A-Za-z0-9_-]{22})$")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    if number <= 0:
        raise ValueError("survey ids are positive")
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_DIGITS[rest])
    return "".join(reversed(digits))


def _signature(secret: bytes, survey_id: int) -> str:
    digest = hmac.new(secret, f"survey:{survey_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_LENGTH]


def derive_secret(telegram_token: str) -> bytes:
    """Derive a link-signing key from the bot token when no explicit secret is configured."""
    return hmac.new(telegram_token.encode(), b"npsbot deep links", hashlib.sha256).digest()


def make_payload(secret: bytes, survey_id: int) -> str:
    """Return the ``start`` payload for one survey."""
    return f"s{_base36(survey_id)}_{_signature(secret, survey_id)}"


def read_payload(secret: bytes, payload: str) -> int | None:
    """Return the survey id of a genuine payload, or None; compares in constant time."""
    match = _PAYLOAD.match(payload)
    if match is None:
        return None
    survey_id = int(match["id"], 36)
    if not 0 < survey_id <= MAX_SURVEY_ID:
        return None
    if not hmac.compare_digest(match["sig"], _signature(secret, survey_id)):
        return None
    return survey_id


def deep_link(bot_username: str, payload: str) -> str:
    """Build the t.me link a helpdesk puts into its closing message."""
    return f"https://t.me/{bot_username}?start={payload}"
