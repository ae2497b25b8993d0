"""Phone numbers in one canonical form (E.164), so the helpdesk's and Telegram's ones match."""

from __future__ import annotations

import phonenumbers


def normalize_phone(raw: str | None, *, region: str | None = None) -> str | None:
    """Return ``+79001234567`` for any way of writing that number, or None when it is not one.

    Telegram sends contacts without the ``+`` (``79001234567``), so a number that does not
    parse in ``region`` is tried once more as an international one.
    """
    if not raw or not raw.strip():
        return None
    candidates = [raw.strip()]
    if not raw.strip().startswith("+"):
        candidates.append("+" + raw.strip())
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None
