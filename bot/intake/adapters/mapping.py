"""Building ``TicketClosed`` from helpdesk fields: one place for the rules every adapter shares.

Attribution (agent, team, channel, tags) is copied at closing time; personal data is limited to
what the survey needs (name, phone, language, company). E-mail addresses are never kept.

Nothing here refuses a closing for a long value (``bot.intake.limits``): names, agent, team,
company and channel are cut to their columns, tags to ``limits.TAG`` and the first
``limits.TAGS``, and a phone that is too long is dropped, since a cut number could reach
someone else.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.core.tickets import CustomerInfo, TicketClosed
from bot.intake import limits
from bot.intake.adapters.base import PayloadError, scoped
from bot.intake.adapters.payload import clean

_LANGUAGE_CODE = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")
_LANGUAGE_NAMES = {  # helpdesks that render a language's name rather than its code
    "english": "en",
    "russian": "ru",
    "русский": "ru",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "français": "fr",
    "spanish": "es",
    "español": "es",
    "ukrainian": "uk",
    "українська": "uk",
}
_TAG_SEPARATORS = re.compile(r"[\s,]+")
_MAX_ID_DIGITS = 16  # 2**53, the largest id taken, has 16


def language(value: str | None) -> str | None:
    """``en`` from ``en``, ``en-US``, ``en_GB`` or ``English``; None when unrecognisable."""
    if not value:
        return None
    value = value.strip()
    match = _LANGUAGE_CODE.fullmatch(value)
    if match:
        return match[1].lower()
    return _LANGUAGE_NAMES.get(value.lower())


def full_name(*parts: str | None) -> str | None:
    """First and last name joined, skipping what is missing."""
    return clean(" ".join(part for part in parts if part))


def tags(value: object) -> tuple[str, ...]:
    """Tags from a list (of strings or ``{"tag"|"name": ...}`` objects) or a separated string."""
    if isinstance(value, str):
        items: list[object] = list(_TAG_SEPARATORS.split(value))
    elif isinstance(value, list):
        items = value
    else:
        return ()
    found: list[str] = []
    for item in items:
        value = item.get("tag", item.get("name")) if isinstance(item, dict) else item
        text = clean(value, limit=limits.TAG) if isinstance(value, str) else None
        if text and text not in found:
            found.append(text)
            if len(found) == limits.TAGS:
                break
    return tuple(found)


def phone_number(value: str | None) -> str | None:
    """The phone as sent, or None when it is longer than a phone can be stored."""
    found = clean(value, limit=None) if value else None
    return found if found is not None and len(found) <= limits.PHONE else None


def telegram_user_id(value: object) -> int | None:
    """A Telegram user id when the helpdesk knows one; anything else is not one.

    Digits are counted before they are converted: Python refuses to convert more than 4300
    of them (a ValueError, which would be a 500), and no id has more than 16.
    """
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) <= _MAX_ID_DIGITS:
        value = int(text)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**53:
        return value
    return None


def customer(
    helpdesk: str,
    raw_id: str | None,
    *,
    field: str,
    name: str | None = None,
    phone: str | None = None,
    language_tag: str | None = None,
    company: str | None = None,
    telegram_id: object = None,
) -> CustomerInfo:
    """The customer as ``CustomerInfo``, with the id namespaced by helpdesk."""
    if not raw_id:
        raise PayloadError(f"missing field {field}")
    return CustomerInfo(
        helpdesk_id=scoped(helpdesk, raw_id),
        telegram_user_id=telegram_user_id(telegram_id),
        phone=phone_number(phone),
        name=clean(name) if name else None,
        language=language(language_tag),
        company=clean(company) if company else None,
    )


def closing(
    helpdesk: str,
    ticket_id: str,
    *,
    closed_at: datetime,
    who: CustomerInfo,
    agent: str | None = None,
    team: str | None = None,
    channel: str | None = None,
    tag_list: tuple[str, ...] = (),
) -> TicketClosed:
    """The closing event, ticket id namespaced like the customer's."""
    return TicketClosed(
        ticket_id=scoped(helpdesk, ticket_id),
        closed_at=closed_at,
        customer=who,
        agent=clean(agent) if agent else None,
        team=clean(team) if team else None,
        channel=clean(channel.lower()) if channel else None,
        tags=tag_list,
    )
