"""Which managers' chat a detractor alert goes to: by team, channel or company, first match wins."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RouteField(enum.StrEnum):
    """What of a survey's attribution a route matches on."""

    TEAM = "team"
    CHANNEL = "channel"
    COMPANY = "company"


@dataclass(frozen=True, slots=True)
class AlertRoute:
    """Alerts whose ``field`` equals ``value`` (case-insensitively) go to ``chat_id``."""

    field: RouteField
    value: str
    chat_id: int

    def matches(self, attribution: dict[RouteField, str | None]) -> bool:
        """True when the survey's value for this route's field is the route's value."""
        actual = attribution.get(self.field)
        return actual is not None and actual.strip().casefold() == self.value.casefold()


def parse_routes(text: str) -> tuple[AlertRoute, ...]:
    """Parse ``team:Billing=-100123; channel:email=-100456`` (rules separated by ``;``).

    Raises ValueError naming the rule that is wrong, so the operator can fix the setting.
    """
    routes = []
    for rule in (part.strip() for part in text.split(";")):
        if not rule:
            continue
        selector, equals, chat = rule.rpartition("=")
        kind, colon, value = selector.partition(":")
        fields = ", ".join(item.value for item in RouteField)
        if not equals or not colon or not value.strip():
            raise ValueError(f"route {rule!r} must look like 'team:Billing=-100123'")
        try:
            field = RouteField(kind.strip().lower())
        except ValueError:
            raise ValueError(f"route {rule!r}: {kind.strip()!r} is not one of {fields}") from None
        try:
            chat_id = int(chat.strip())
        except ValueError:
            raise ValueError(f"route {rule!r}: {chat.strip()!r} is not a chat id") from None
        routes.append(AlertRoute(field, value.strip(), chat_id))
    return tuple(routes)


def route_alert(
    routes: tuple[AlertRoute, ...] | list[AlertRoute],
    *,
    team: str | None,
    channel: str | None,
    company: str | None,
    default: int | None,
) -> int | None:
    """The chat of the first route that matches, else ``default`` (None: no alert at all)."""
    attribution = {RouteField.TEAM: team, RouteField.CHANNEL: channel, RouteField.COMPANY: company}
    for route in routes:
        if route.matches(attribution):
            return route.chat_id
    return default
