"""What every helpdesk adapter produces and raises, so the HTTP layer treats them all alike.

An adapter is three steps on purpose: ``precheck`` sees only the headers, so a request without
the credential this helpdesk sends is refused before its body is read at all; ``verify`` sees
the raw bytes (a signature is over the bytes the helpdesk sent, never over JSON we
re-serialised); and ``parse`` runs only once the sender is trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Protocol, Self

from bot.config import Settings
from bot.core.clock import Clock, utc_now
from bot.core.tickets import TicketClosed
from bot.intake.adapters.bodies import RequestBody


class SignatureError(Exception):
    """The sender could not be trusted (wrong or missing signature, stale timestamp): 401."""


class PayloadError(Exception):
    """The body is not what this helpdesk sends; the message names the problem: 400."""


@dataclass(frozen=True, slots=True)
class TicketReopened:
    """The ticket went back to work: surveys that have not gone out must be cancelled."""

    ticket_id: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A genuine event that is neither a closing nor a reopening (created, comment, ...)."""

    reason: str


WebhookEvent = TicketClosed | TicketReopened | Ignored


class WebhookAdapter(Protocol):
    """One helpdesk's webhook: how it signs, and how its body maps to a ``WebhookEvent``."""

    @property
    def name(self) -> str:
        """The URL segment: ``/api/v1/webhooks/<name>``."""
        ...

    def precheck(self, *, headers: Mapping[str, str], now: datetime) -> None:
        """Raise ``SignatureError`` unless the headers carry this helpdesk's credential.

        Whatever needs no body is checked here in full: a shared secret, a timestamp's age.
        """
        ...

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Raise ``SignatureError`` unless the helpdesk sent exactly these bytes, recently.

        Complete on its own: it runs ``precheck`` too.
        """
        ...

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Map a verified body to an event; raise ``PayloadError`` naming what is wrong."""
        ...


class HelpdeskClass(Protocol):
    """An adapter class as the registry (``bot.intake.adapters.HELPDESKS``) reads it."""

    name: str
    enabled_by: str
    summary: str
    body: RequestBody

    def configured(self, secret: bytes, settings: Settings, clock: Clock) -> WebhookAdapter:
        """The adapter, made with the secret and whatever else it reads from ``settings``."""
        ...


def replay_window(settings: Settings) -> timedelta:
    """How old a signed request may be before it is a replay (NPSBOT_WEBHOOK_MAX_SKEW_SECONDS)."""
    return timedelta(seconds=settings.webhook_max_skew_seconds)


@dataclass(frozen=True, slots=True)
class Helpdesk:
    """What every adapter class declares about its helpdesk, once, for the registry to read,
    and the three fields every adapter is made with.

    The route (``/api/v1/webhooks/<name>``), the secret map, the 404 naming the variable to
    set, /openapi.json and the tests' parametrisation all come from these, so adding a
    helpdesk is its module plus one line in ``HELPDESKS``. Subclasses are frozen dataclasses too,
    with fields of their own only if they read more settings (Help Scout's mailboxes).
    """

    secret: bytes
    max_skew: timedelta = timedelta(minutes=5)  # the replay window
    clock: Clock = field(default=utc_now)  # the last-resort closing time
    name: ClassVar[str]  # the URL segment, and the prefix of the ids it makes (``scoped``)
    enabled_by: ClassVar[str]  # the Settings field of its secret, which turns the endpoint on
    summary: ClassVar[str]  # the route's summary in /openapi.json
    body: ClassVar[RequestBody]  # the route's body in /openapi.json

    @classmethod
    def configured(cls, secret: bytes, settings: Settings, clock: Clock) -> Self:
        """The adapter with its secret and the replay window; override to read more settings."""
        return cls(secret=secret, max_skew=replay_window(settings), clock=clock)


def secret_variable(helpdesk: HelpdeskClass) -> str:
    """The environment variable that turns a helpdesk's endpoint on (NPSBOT_ZENDESK_SECRET)."""
    return "NPSBOT_" + helpdesk.enabled_by.upper()


def scoped(helpdesk: str, raw_id: str) -> str:
    """Ids namespaced by helpdesk: Zendesk user 8 and Chatwoot contact 8 are different people."""
    return f"{helpdesk}:{raw_id}"
