"""Phone numbers in one canonical form (E.164), so the helpdesk's and Telegram's ones match.

``phonenumbers`` is imported on the first number read, not with this module: its 58 modules
(about 1 MiB and 15 ms) would load into every ``npsbot run`` at start-up, before and whether
or not any closing or contact carries a phone number.
"""

from __future__ import annotations

import re

# 00 is the international prefix of most of the world, and the one ITU-T recommends (E.164,
# annex): Zammad's own example is "0061 2 1234 7777". The library reads it only in a region
# that dials it, so without a region, or in one that dials another (011 in the US, 810 in
# Russia), such a number read as none. Anything before the 00 that is not a digit or "+" is
# punctuation or a label the library skips too ("(0061) ...", "tel: 0061 ...").
_ITU_PREFIX = re.compile(r"[^\d+]*00")


def normalize_phone(raw: str | None, *, region: str | None = None) -> str | None:
    """Return ``+79001234567`` for any way of writing that number, or None when it is not one.

    The number is read in ``region`` first (its national form, and its own international
    prefix), so a national number never changes meaning. Failing that, a leading ``00`` is
    read as the international prefix; Telegram sends contacts without the ``+``
    (``79001234567``), so any other number is tried once more as an international one.
    """
    if not raw or not raw.strip():
        return None
    import phonenumbers  # noqa: PLC0415  (see the module's docstring)

    text = raw.strip()
    candidates = [text]
    if (prefix := _ITU_PREFIX.match(text)) is not None:
        candidates.append("+" + text[prefix.end() :])
    elif not text.startswith("+"):
        candidates.append("+" + text)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def normalize_shared_contact(raw: str | None) -> str | None:
    """A phone number from a contact shared in Telegram, in E.164.

    Telegram gives it in international form, with or without the ``+`` (``61212347777``), so
    it is never read in the operator's region: in Germany those digits are a valid national
    number, +49 6121 2347777, and the client would match no one, or someone else.
    """
    if not raw or not raw.strip():
        return None
    digits = raw.strip().removeprefix("+")
    return normalize_phone("+" + digits) if digits else None
