"""Why each outbox call is made: every purpose the bot stores in ``outbox.purpose``, declared once.

A purpose is what the rest of the app hears about: the dispatcher tells the service that owns a
purpose what Telegram did with its calls (``PurposeHooks``), the metrics count calls by purpose,
and ``/stop`` withdraws the calls of some. Declaring them here, in one enum, keeps the names in
one place (a feature imports its member instead of a string) and lets tests hold every purpose
to the ``outbox.purpose`` column. A new purpose is one member here; the feature that sends it
imports the member, and, if it wants to hear the results, returns hooks for it from its
``delivery_hooks()`` (``hooks_of`` gathers them for the dispatcher).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum, unique
from typing import Protocol

from bot.delivery.results import PurposeHooks


@unique
class Purpose(StrEnum):
    """One kind of outbox call; the value is what ``outbox.purpose`` stores."""

    SURVEY = "survey"  # the question itself: its delivery moves the survey to "sent"
    CLIENT = "client"  # everything else the client reads
    RECOVERY = "recovery"  # "did we make it right?" after a resolved case: a survey too
    ALERT = "alert"  # a detractor's alert in a managers' chat, and its edits
    LOOP = "loop"  # the closed loop: prompts, relays; a relay the client never got is reported
    COMMAND = "command"  # the answer to a manager command
    DIGEST = "digest"  # the digest's text, chart and CSV; a refused one may be posted again
    EXPORT = "export"  # /export's file
    ENPS_QUESTION = "enps"  # the eNPS question: its delivery or refusal moves the invitation
    ENPS_MEMBER = "enps_member"  # everything else a campaign member reads
    ENPS_DIGEST = "enps_digest"  # an eNPS round's digest


# What ``/stop`` withdraws before it goes out: everything that would reach the client as part
# of a survey. A new purpose a client reads belongs here unless the client asked for it.
WITHDRAWN_ON_STOP = (Purpose.SURVEY, Purpose.CLIENT, Purpose.RECOVERY)


class HookProvider(Protocol):
    """A service that wants to hear what became of the calls of its purposes."""

    def delivery_hooks(self) -> Mapping[Purpose, PurposeHooks]:
        """The hooks of each purpose this service owns."""
        ...


def hooks_of(*providers: HookProvider) -> dict[str, PurposeHooks]:
    """Every provider's hooks, keyed as the dispatcher reads them; a purpose has one owner."""
    hooks: dict[str, PurposeHooks] = {}
    for provider in providers:
        for purpose, purpose_hooks in provider.delivery_hooks().items():
            if purpose in hooks:
                raise ValueError(f"two services hook the outbox purpose {purpose.value!r}")
            hooks[purpose] = purpose_hooks  # a StrEnum member is its value as a key
    return hooks
