"""One adapter per helpdesk, each turning its webhook into a ``WebhookEvent``.

``HELPDESKS`` is the registry: each adapter class carries its name (the route), the setting of
its secret and its body's documentation (``base.Helpdesk``), so the routes, the secrets, the
404 naming the variable to set and the tests read them from here. Adding a helpdesk is its
module plus one line below (and its secret as a field of ``bot.config.Settings``, which the
tests hold to deploy/.env.example, README and docs/integrations.md).

``build_adapters`` makes the ones whose secret is set; the HTTP layer answers 404 naming the
variable for the others, so an operator sees what to configure.
"""

from __future__ import annotations

from typing import Final

from pydantic import SecretStr

from bot.config import Settings
from bot.core.clock import Clock, utc_now
from bot.intake.adapters.base import (
    HelpdeskClass,
    Ignored,
    PayloadError,
    SignatureError,
    TicketReopened,
    WebhookAdapter,
    WebhookEvent,
    secret_variable,
)
from bot.intake.adapters.chatwoot import ChatwootAdapter
from bot.intake.adapters.freshdesk import FreshdeskAdapter
from bot.intake.adapters.helpscout import HelpScoutAdapter
from bot.intake.adapters.jira import JiraAdapter
from bot.intake.adapters.zammad import ZammadAdapter
from bot.intake.adapters.zendesk import ZendeskAdapter

__all__ = [
    "HELPDESKS",
    "HelpdeskClass",
    "Ignored",
    "PayloadError",
    "SignatureError",
    "TicketReopened",
    "WebhookAdapter",
    "WebhookEvent",
    "build_adapters",
    "helpdesk_names",
    "secret_variable",
]

# In this order in /openapi.json and in the 404 that lists the known helpdesks.
HELPDESKS: Final[tuple[HelpdeskClass, ...]] = (
    ZendeskAdapter,
    FreshdeskAdapter,
    ZammadAdapter,
    HelpScoutAdapter,
    ChatwootAdapter,
    JiraAdapter,
)


def helpdesk_names() -> frozenset[str]:
    """Every helpdesk's name: also the prefix of the ticket and customer ids it makes."""
    return frozenset(helpdesk.name for helpdesk in HELPDESKS)


def _secret(settings: Settings, helpdesk: HelpdeskClass) -> str:
    """The helpdesk's configured secret, stripped; empty when it is not set."""
    value = getattr(settings, helpdesk.enabled_by)
    if not isinstance(value, SecretStr | None):  # a registry mistake, caught by tests/intake
        raise TypeError(f"Settings.{helpdesk.enabled_by} is not a secret")
    return value.get_secret_value().strip() if value is not None else ""


def build_adapters(settings: Settings, *, clock: Clock = utc_now) -> dict[str, WebhookAdapter]:
    """The adapters whose secret is configured, keyed by their URL segment.

    ``clock`` is the last-resort closing time for a payload that carries none of its own.
    """
    adapters: dict[str, WebhookAdapter] = {}
    for helpdesk in HELPDESKS:
        if secret := _secret(settings, helpdesk):
            adapters[helpdesk.name] = helpdesk.configured(secret.encode(), settings, clock)
    return adapters
