"""Signed, expiring /start payloads that tie a Telegram chat to a helpdesk survey or customer.

Telegram allows at most 64 characters of ``A-Za-z0-9_-`` after ``?start=``. A payload is a kind
letter (``s`` survey, ``c`` customer, ``e`` employee NPS campaign), the id and the expiry (Unix
seconds) in base 36, and a truncated HMAC over all three, so it can be neither guessed, altered
nor extended.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.survey import MAX_SURVEY_ID

MAX_PAYLOAD_LENGTH = 64
_SIGNATURE_LENGTH = 22  # 132 bits of HMAC-SHA256, in base64url
_PAYLOAD = re.compile(
    r"^(?P<kind>[sce])(?P<id>[0-9a-z]{1,7})_(?P<exp>[0-9a-z]{1,8})_(?P<sig>[A-Za-z0-9_-]{22})$"
)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# Eight base-36 digits reach past the year 9999, where datetime ends: no expiry we sign does.
_LAST_EXPIRY = int(datetime.max.replace(tzinfo=UTC).timestamp())


class LinkKind(enum.StrEnum):
    """What a link opens: one survey, a customer's "connect Telegram" link, or a campaign."""

    SURVEY = "s"
    CUSTOMER = "c"
    CAMPAIGN = "e"  # an employee NPS campaign's join link (bot.enps), never a customer's


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """A genuine payload: what it names and until when it is valid."""

    kind: LinkKind
    target_id: int
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        """Whether the link may no longer be used."""
        return now >= self.expires_at


def _base36(number: int) -> str:
    if number <= 0:
        raise ValueError("ids and expiry times are positive")
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_DIGITS[rest])
    return "".join(reversed(digits))


def _signature(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_LENGTH]


def derive_secret(telegram_token: str) -> bytes:
    """Derive a link-signing key from the bot token when no explicit secret is configured."""
    return hmac.new(telegram_token.encode(), b"npsbot deep links", hashlib.sha256).digest()


def make_payload(secret: bytes, kind: LinkKind, target_id: int, expires_at: datetime) -> str:
    """Return the ``start`` payload for a survey or customer, valid until ``expires_at``."""
    if not 0 < target_id <= MAX_SURVEY_ID:
        raise ValueError(f"id out of range: {target_id}")
    body = f"{kind.value}{_base36(target_id)}_{_base36(int(expires_at.timestamp()))}"
    return f"{body}_{_signature(secret, body)}"


def read_payload(secret: bytes, payload: str) -> LinkClaim | None:
    """Return what a genuine payload names (expired or not), or None; constant-time compare."""
    match = _PAYLOAD.fullmatch(payload)
    if match is None:
        return None
    target_id, expires = int(match["id"], 36), int(match["exp"], 36)
    if not 0 < target_id <= MAX_SURVEY_ID or expires > _LAST_EXPIRY:
        return None
    body = f"{match['kind']}{match['id']}_{match['exp']}"
    if not hmac.compare_digest(match["sig"], _signature(secret, body)):
        return None
    return LinkClaim(LinkKind(match["kind"]), target_id, datetime.fromtimestamp(expires, UTC))


def deep_link(bot_username: str, payload: str) -> str:
    """Build the t.me link a helpdesk puts into its closing message."""
    return f"https://t.me/{bot_username}?start={payload}"
