"""One adapter per helpdesk, each turning its webhook into a ``WebhookEvent``.

``build_adapters`` makes the ones whose secret is set; the HTTP layer answers 404 naming the
variable for the others, so an operator sees what to configure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pydantic import SecretStr

from bot.config import Settings
from bot.core.clock import Clock, utc_now
from bot.intake.adapters.base import (
    Ignored,
    PayloadError,
    SignatureError,
    TicketReopened,
    WebhookAdapter,
    WebhookEvent,
)
from bot.intake.adapters.chatwoot import ChatwootAdapter
from bot.intake.adapters.freshdesk import FreshdeskAdapter
from bot.intake.adapters.helpscout import HelpScoutAdapter
from bot.intake.adapters.jira import JiraAdapter
from bot.intake.adapters.zammad import ZammadAdapter
from bot.intake.adapters.zendesk import ZendeskAdapter

__all__ = [
    "HELPDESKS",
    "Ignored",
    "PayloadError",
    "SignatureError",
    "TicketReopened",
    "WebhookAdapter",
    "WebhookEvent",
    "build_adapters",
    "secret_variable",
]

Factory = Callable[[bytes, timedelta, Clock], WebhookAdapter]

HELPDESKS: dict[str, Factory] = {
    "zendesk": ZendeskAdapter,
    "freshdesk": FreshdeskAdapter,
    "zammad": ZammadAdapter,
    "helpscout": HelpScoutAdapter,
    "chatwoot": ChatwootAdapter,
    "jira": JiraAdapter,
}


def secret_variable(helpdesk: str) -> str:
    """The environment variable that turns a helpdesk's endpoint on."""
    return f"NPSBOT_{helpdesk.upper()}_SECRET"


def _secrets(settings: Settings) -> dict[str, SecretStr | None]:
    return {
        "zendesk": settings.zendesk_secret,
        "freshdesk": settings.freshdesk_secret,
        "zammad": settings.zammad_secret,
        "helpscout": settings.helpscout_secret,
        "chatwoot": settings.chatwoot_secret,
        "jira": settings.jira_secret,
    }


def build_adapters(settings: Settings, *, clock: Clock = utc_now) -> dict[str, WebhookAdapter]:
    """The adapters whose secret is configured, keyed by their URL segment.

    ``clock`` is the last-resort closing time for a payload that carries none of its own.
    """
    skew = timedelta(seconds=settings.webhook_max_skew_seconds)
    adapters: dict[str, WebhookAdapter] = {}
    for name, secret in _secrets(settings).items():
        value = secret.get_secret_value().strip() if secret is not None else ""
        if not value:
            continue
        if name == "helpscout":  # the one adapter with a setting of its own
            adapters[name] = HelpScoutAdapter(
                value.encode(), skew, clock, mailboxes=settings.helpscout_mailboxes
            )
        else:
            adapters[name] = HELPDESKS[name](value.encode(), skew, clock)
    return adapters
