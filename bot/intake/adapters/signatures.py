"""Signature checks shared by the adapters: HMAC over the raw body, compared in constant time.

Everything that fails raises ``SignatureError`` with a short reason; the reason never echoes
what the sender supplied.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from bot.intake.adapters.base import SignatureError

_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case (Starlette's mapping already is case-insensitive)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value.strip() if value is not None else None


def require_header(headers: Mapping[str, str], name: str) -> str:
    """A header that must be present and non-empty."""
    value = header(headers, name)
    if not value:
        raise SignatureError(f"missing {name} header")
    return value


def digest(secret: bytes, message: bytes, algorithm: str) -> bytes:
    """HMAC of ``message`` keyed with ``secret``."""
    return hmac.new(secret, message, _ALGORITHMS[algorithm]).digest()


def _same(given: str, expected: str) -> bool:
    """Constant-time equality that tolerates any characters in what the sender gave."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("ascii"))


def check_hex(given: str, *, secret: bytes, message: bytes, algorithm: str, what: str) -> None:
    """``<algorithm>=<hex>`` (GitHub style: Zammad, Jira, Chatwoot, our generic endpoint)."""
    expected = f"{algorithm}={digest(secret, message, algorithm).hex()}"
    if not _same(given.lower(), expected):
        raise SignatureError(f"{what} does not match the body")


def check_base64(given: str, *, secret: bytes, message: bytes, algorithm: str, what: str) -> None:
    """A bare base64 digest (Zendesk, Help Scout)."""
    expected = base64.b64encode(digest(secret, message, algorithm)).decode("ascii")
    if not _same(given, expected):
        raise SignatureError(f"{what} does not match the body")


def check_shared_secret(given: str, *, secret: bytes, what: str) -> None:
    """For helpdesks that cannot sign: the configured secret, sent back verbatim."""
    if not hmac.compare_digest(given.encode("utf-8", "replace"), secret):
        raise SignatureError(f"wrong {what}")


def parse_timestamp(raw: str, *, what: str) -> datetime:
    """Unix seconds or ISO 8601 with a zone; anything else is not a timestamp we can trust."""
    try:
        moment = (
            datetime.fromtimestamp(int(raw), UTC)
            if raw.isdigit()
            else datetime.fromisoformat(raw.replace("z", "Z"))
        )
    except (ValueError, OverflowError, OSError) as error:
        raise SignatureError(f"{what} is not a timestamp") from error
    if moment.tzinfo is None or moment < _EARLIEST:
        raise SignatureError(f"{what} is not a timestamp")
    return moment


def check_fresh(sent_at: datetime, *, now: datetime, max_skew: timedelta, what: str) -> None:
    """Refuse replays: a signed request is only good within ``max_skew`` of our clock."""
    if abs(now - sent_at) > max_skew:
        raise SignatureError(f"stale {what}: more than {int(max_skew.total_seconds())} s off")
