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
from storage.outbox import Priority


@unique
class Purpose(StrEnum):
    """One kind of outbox call; the value is what ``outbox.purpose`` stores.

    Each purpose also declares how urgent its calls are (``PRIORITY`` below), which
    ``outbox.enqueue`` stores with every row unless the call site says otherwise.
    """

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

    @property
    def priority(self) -> Priority:
        """Whether this purpose's calls go before bulk sends (``PRIORITY``)."""
        return PRIORITY[self]


# Which calls the dispatcher claims first: a reply to something a person has just done goes
# before the bot's own bulk sends of other chats, so that under a broadcast at Telegram's
# limit the client still sees their score within a second (a chat's own order never changes).
#
# Interactive: what a person waits for with the chat open. Its volume is bounded by what people
# do, never by a schedule, so it cannot crowd out a broadcast for long. A detractor's alert is
# interactive too: it is what the closed loop exists for, a manager should see it within
# seconds, not after the 10,000 surveys queued before it (minutes), and it goes to a group,
# whose own limit (20 a minute) caps its share of the global budget at 1/3 msg/s per group;
# the same holds for the alert's edits and for its reminder when nobody took the case.
# Relays of the case conversation are a conversation between two people. /export is the
# answer to a manager's command.
#
# Bulk: what the bot sends on its own schedule: survey questions (and the recovery question,
# a survey too), eNPS questions and round digests, the scheduled digest. The purposes marked
# interactive that also send something unasked pass ``priority=Priority.BULK`` at that call
# site: the survey reminder and the question's last edit when the change window closes
# (``SurveySweep``), the eNPS reminder; ``/digest`` is the one digest that is interactive.
PRIORITY: Mapping[Purpose, Priority] = {
    Purpose.SURVEY: Priority.BULK,
    Purpose.CLIENT: Priority.INTERACTIVE,
    Purpose.RECOVERY: Priority.BULK,
    Purpose.ALERT: Priority.INTERACTIVE,
    Purpose.LOOP: Priority.INTERACTIVE,
    Purpose.COMMAND: Priority.INTERACTIVE,
    Purpose.DIGEST: Priority.BULK,
    Purpose.EXPORT: Priority.INTERACTIVE,
    Purpose.ENPS_QUESTION: Priority.BULK,
    Purpose.ENPS_MEMBER: Priority.INTERACTIVE,
    Purpose.ENPS_DIGEST: Priority.BULK,
}


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
