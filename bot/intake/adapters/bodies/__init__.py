"""The body each helpdesk's webhook sends, as the adapter reads it, for /openapi.json.

Documentation, not validation: an adapter reads the raw bytes (a signature is over them) and
refuses what it cannot use with a 400 naming the field. Each body is the closing's: the fields
marked required are what a closing needs, and a field's type is checked when it is read. An
event that is no closing (a reopening, a comment) needs only the fields that say what it is.
Helpdesks send much more than npsbot reads, so every object takes other properties too.

One module per helpdesk declares its ``RequestBody`` (``BODY``); the helpdesk's adapter class
carries it (``body``), and ``bot.intake.webhooks`` reads it from the registry of adapters.
"""

from __future__ import annotations

from bot.intake.adapters.bodies.document import RequestBody, components

__all__ = ["RequestBody", "components"]
