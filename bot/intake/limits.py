"""How long each free-text field of the intake may be: one place for the API and the adapters.

The numbers follow the columns they end up in (``storage.models``: ids, names, agent, team,
channel and company are ``VARCHAR(255)``, phones 64, languages 16), so what the intake accepts
always fits. Tags are a JSON list with no column limit of its own, so theirs are chosen here.

What happens to a longer value depends on who sent it (docs/integrations.md, "Limits"): the
direct API refuses it with a 422 naming the field, as its caller can fix the request; a helpdesk
webhook cuts or drops it, since its sender cannot be fixed and a refusal would lose the survey.
Only an identifier is refused everywhere: a cut id could be another ticket's or person's.
"""

from __future__ import annotations

from typing import Final

TEXT: Final = 255  # names, company, agent, team, channel (their columns)
ID: Final = 255  # ticket and customer ids of the direct API (the columns)
# A helpdesk's ids are stored as "<helpdesk>:<id>", so theirs leave room for the prefix.
HELPDESK_ID: Final = 200
PHONE: Final = 64
LANGUAGE: Final = 16
TAG: Final = 100
TAGS: Final = 50
# A request body: far above any helpdesk's webhook, a Jira issue with long threads included.
BODY_BYTES: Final = 1024 * 1024
