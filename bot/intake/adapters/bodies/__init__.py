"""The body each helpdesk's webhook sends, as the adapter reads it, for /openapi.json.

Documentation, not validation: an adapter reads the raw bytes (a signature is over them) and
refuses what it cannot use with a 400 naming the field. Each body is the closing's: the fields
marked required are what a closing needs, and a field's type is checked when it is read. An
event that is no closing (a reopening, a comment) needs only the fields that say what it is.
Helpdesks send much more than npsbot reads, so every object takes other properties too.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.intake.adapters.bodies.chatwoot import ChatwootConversation
from bot.intake.adapters.bodies.fields import REF, ref
from bot.intake.adapters.bodies.freshdesk import FreshdeskFlat, FreshdeskWrapped
from bot.intake.adapters.bodies.helpscout import HelpScoutConversation
from bot.intake.adapters.bodies.jira import JiraEvent
from bot.intake.adapters.bodies.zammad import ZammadPayload
from bot.intake.adapters.bodies.zendesk import ZendeskEvent, ZendeskTrigger

__all__ = ["BODIES", "HEADERS", "components"]

# The request body schema of each helpdesk's route.
BODIES: Final[dict[str, dict[str, Any]]] = {
    "zendesk": {"anyOf": [ref(ZendeskEvent), ref(ZendeskTrigger)]},
    "freshdesk": {"anyOf": [ref(FreshdeskWrapped), ref(FreshdeskFlat)]},
    "zammad": ref(ZammadPayload),
    "helpscout": ref(HelpScoutConversation),
    "chatwoot": ref(ChatwootConversation),
    "jira": ref(JiraEvent),
}
# Headers a helpdesk's body is read with (signature headers are not parameters: they are
# checked before anything is read, and a generated client does not send them).
HEADERS: Final[dict[str, list[dict[str, Any]]]] = {
    "helpscout": [
        {
            "name": "X-HelpScout-Event",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "convo.status is read; other events are acknowledged and ignored",
        }
    ]
}
_MODELS: Final[list[type[BaseModel]]] = [
    ZendeskEvent,
    ZendeskTrigger,
    FreshdeskWrapped,
    FreshdeskFlat,
    ZammadPayload,
    HelpScoutConversation,
    ChatwootConversation,
    JiraEvent,
]


def components() -> dict[str, Any]:
    """Every body model (and the models inside them), by name, for the document's components."""
    _, schema = models_json_schema([(model, "validation") for model in _MODELS], ref_template=REF)
    defs: dict[str, Any] = schema["$defs"]
    return defs
